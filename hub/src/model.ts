/**
 * The hub's data vocabulary that the store persists and the services pass
 * around (roles, key scopes, audit entries). It imports nothing of the hub, so
 * the store's interface (store/types.ts) and the service seams (services.ts)
 * can both use it without importing each other.
 */

export type Role = 'admin' | 'member';

/** Scopes from the security model; an empty list means no restriction on that dimension. */
export interface KeyPolicy {
  allowedAgents: string[];
  allowedProbes: string[];
  allowedClients: string[];
}

export interface AuditEntryInput {
  /** e.g. `mcp.tool_call`, `rest.probe`, `api_key.create`, `agent.enroll`, `login`. */
  action: string;
  actor: { kind: 'api_key' | 'user' | 'agent' | 'system' | 'cli'; id: string | null; name: string | null };
  clientId?: string | null;
  tool?: string | null;
  agents?: string[];
  probe?: string | null;
  params?: unknown;
  status: 'ok' | 'error' | 'denied' | 'timeout' | 'offline' | 'partial';
  resultBytes?: number;
  durationMs?: number;
  detail?: string | null;
}

export interface AuditRecord extends AuditEntryInput {
  seq: number;
  at: string;
  hash: string;
}
