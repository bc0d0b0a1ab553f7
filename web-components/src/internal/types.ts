/**
 * The shapes the hub's REST API returns (see its OpenAPI document at
 * `/api/v1/openapi.json`). Written out here because the web components may
 * not import hub code: they meet the hub only over HTTP.
 */
export type AgentStatus = 'online' | 'offline' | 'degraded';

export interface ProbeManifest {
  name: string;
  description: string;
  params: JsonSchema;
  result?: JsonSchema;
}

export interface PackStatus {
  name: string;
  version: string;
  state: 'active' | 'pending' | 'failed' | 'disabled' | 'quarantined';
  reason?: string;
  code?: string;
  integrity?: string;
  manifest?: { name: string; version: string; description: string; probes: ProbeManifest[] };
  pending?: { version: string; permissionsSha256: string; added: string[]; permissions?: unknown };
}

export interface AgentView {
  id: string;
  name: string;
  status: AgentStatus;
  reasons: string[];
  connected: boolean;
  lastSeenAt: string | null;
  enrolledAt: string;
  agentVersion: string | null;
  os: string | null;
  packs: PackStatus[];
  isolation: string | null;
}

export interface AgentDetail extends AgentView {
  certSerial: string | null;
  certNotAfter: string | null;
  removedAt: string | null;
  attestationBaseline: unknown;
  pendingAttestation: unknown;
}

export interface KeyPolicy {
  allowedAgents: string[];
  allowedProbes: string[];
  allowedClients: string[];
}

export interface ApiKeyView {
  id: string;
  name: string;
  type: 'user' | 'agent';
  role: 'admin' | 'member';
  prefix: string;
  policy: KeyPolicy;
  agentId: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface TokenView {
  id: string;
  prefix: string;
  boundName: string | null;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
  usedBy: string | null;
  state: 'active' | 'used' | 'expired';
}

export interface AuditRecord {
  seq: number;
  at: string;
  hash: string;
  action: string;
  actor: { kind: string; id: string | null; name: string | null };
  clientId?: string | null;
  tool?: string | null;
  agents?: string[];
  probe?: string | null;
  params?: unknown;
  status: string;
  resultBytes?: number;
  durationMs?: number;
  detail?: string | null;
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  total: number;
  fromSeq: number;
  lastSeq: number;
  firstBrokenSeq?: number;
  reason?: string;
  full: boolean;
  durationMs: number;
}

export interface ProbeAnswer {
  agent: string;
  probe: string;
  status: 'ok' | 'error' | 'timeout' | 'denied' | 'offline';
  result?: unknown;
  error?: { code: string; message: string };
  durationMs: number;
  truncated: boolean;
}

export interface Me {
  kind: 'api_key' | 'user';
  id: string;
  name: string;
  role: 'admin' | 'member';
}

export interface UserView {
  id: string;
  name: string;
  email: string | null;
  role: 'admin' | 'member';
  enabled: boolean;
  createdAt: string;
}

/** The subset of JSON Schema the probe form understands. */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
}
