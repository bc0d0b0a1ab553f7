import { PackStatusSchema } from '@sonde/pack-sdk/protocol';
import { z } from 'zod';

/** Response schemas shared by routes and the OpenAPI document. */
export const IdParams = z.object({ id: z.string().min(1).max(200) }).strict();

export const PolicySchemaOut = z.object({
  allowedAgents: z.array(z.string()),
  allowedProbes: z.array(z.string()),
  allowedClients: z.array(z.string()),
});

export const ApiKeyViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.enum(['user', 'agent']),
  role: z.enum(['admin', 'member']),
  prefix: z.string(),
  policy: PolicySchemaOut,
  agentId: z.string().nullable(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  /** Set for a user's own key ("my keys"). */
  ownerUserId: z.string().nullable(),
});

export const TokenViewSchema = z.object({
  id: z.string(),
  prefix: z.string(),
  boundName: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string(),
  usedAt: z.string().nullable(),
  usedBy: z.string().nullable(),
  state: z.enum(['active', 'used', 'expired']),
});

export const AgentViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['online', 'offline', 'degraded']),
  reasons: z.array(z.string()),
  connected: z.boolean(),
  lastSeenAt: z.string().nullable(),
  enrolledAt: z.string(),
  agentVersion: z.string().nullable(),
  os: z.string().nullable(),
  /** As the agent reported them (pack-sdk's wire schema), with what the hub holds back applied. */
  packs: z.array(PackStatusSchema),
  isolation: z.string().nullable(),
});

export const UserSchema = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  role: z.enum(['admin', 'member']),
  enabled: z.boolean(),
  createdAt: z.string(),
  /** Provider subject, set at the first single sign-on; null until then. */
  subject: z.string().nullable(),
  displayName: z.string().nullable(),
  /** `admin`: added by an admin; `group`: created at sign-in through an authorized group. */
  origin: z.enum(['admin', 'group']),
  /** Groups the provider reported at the last sign-in. */
  groups: z.array(z.string()),
  lastLoginAt: z.string().nullable(),
});

export const AuditRecordSchema = z.object({
  seq: z.number(),
  at: z.string(),
  hash: z.string(),
  action: z.string(),
  actor: z.object({ kind: z.string(), id: z.string().nullable(), name: z.string().nullable() }),
  clientId: z.string().nullable().optional(),
  tool: z.string().nullable().optional(),
  agents: z.array(z.string()).optional(),
  probe: z.string().nullable().optional(),
  params: z.unknown().optional(),
  status: z.string(),
  resultBytes: z.number().optional(),
  durationMs: z.number().optional(),
  detail: z.string().nullable().optional(),
});

export const VerifyResultSchema = z.object({
  ok: z.boolean(),
  checked: z.number(),
  total: z.number(),
  fromSeq: z.number(),
  lastSeq: z.number(),
  firstBrokenSeq: z.number().optional(),
  reason: z.string().optional(),
  full: z.boolean(),
  durationMs: z.number(),
  /** The entry the anchor outside the database names (null: no anchor yet). */
  anchoredSeq: z.number().nullable(),
});

export const VerifyJobSchema = z.object({
  id: z.string(),
  state: z
    .enum(['running', 'done', 'failed', 'cancelled'])
    .describe('running, then done (see result.ok), failed (see error) or cancelled (DELETE; see cancelledBy)'),
  full: z.boolean(),
  startedBy: z.string().nullable(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  checked: z.number().describe('Entries checked so far'),
  total: z.number().describe('Entries to check (0 until the first progress report)'),
  result: VerifyResultSchema.nullable().describe('Set once done, after its audit.verify entry is committed'),
  error: z.string().nullable(),
  cancelledBy: z.string().nullable().describe('Who cancelled it (key or user name, or hub shutdown), once cancelled'),
});
