import type { KeyPolicy } from '../../model.js';
import type { ApiKeyRecord, EnrollmentTokenRecord } from '../types.js';
import { parseJson } from './json.js';

export interface ApiKeyRow {
  id: string;
  name: string;
  type: ApiKeyRecord['type'];
  role: ApiKeyRecord['role'];
  hash: string;
  prefix: string;
  policy: string;
  agent_id: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  owner_user_id: string | null;
}

const EMPTY_POLICY: KeyPolicy = { allowedAgents: [], allowedProbes: [], allowedClients: [] };

export const toApiKey = (row: ApiKeyRow): ApiKeyRecord => ({
  id: row.id,
  name: row.name,
  type: row.type,
  role: row.role,
  hash: row.hash,
  prefix: row.prefix,
  policy: { ...EMPTY_POLICY, ...parseJson<Partial<KeyPolicy>>(row.policy, {}) },
  agentId: row.agent_id,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  revokedAt: row.revoked_at,
  ownerUserId: row.owner_user_id,
});

/** `INSERT INTO api_keys (API_KEY_COLUMNS)`, values in `apiKeyValues` order. */
export const API_KEY_COLUMNS = 'id, name, type, role, hash, prefix, policy, agent_id, created_at, last_used_at, revoked_at, owner_user_id';
export const apiKeyValues = (r: ApiKeyRecord): unknown[] => [
  r.id,
  r.name,
  r.type,
  r.role,
  r.hash,
  r.prefix,
  JSON.stringify(r.policy),
  r.agentId,
  r.createdAt,
  r.lastUsedAt,
  r.revokedAt,
  r.ownerUserId ?? null,
];

export interface TokenRow {
  id: string;
  hash: string;
  prefix: string;
  bound_name: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  used_by: string | null;
}

export const toToken = (row: TokenRow): EnrollmentTokenRecord => ({
  id: row.id,
  hash: row.hash,
  prefix: row.prefix,
  boundName: row.bound_name,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  usedAt: row.used_at,
  usedBy: row.used_by,
});

/** `INSERT INTO enrollment_tokens (TOKEN_COLUMNS)`, values in `tokenValues` order. */
export const TOKEN_COLUMNS = 'id, hash, prefix, bound_name, created_at, expires_at, used_at, used_by';
export const tokenValues = (r: EnrollmentTokenRecord): unknown[] => [
  r.id,
  r.hash,
  r.prefix,
  r.boundName,
  r.createdAt,
  r.expiresAt,
  r.usedAt,
  r.usedBy,
];
