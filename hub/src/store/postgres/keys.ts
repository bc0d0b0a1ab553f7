import type { KeyPolicy } from '../../services.js';
import type { ApiKeyRecord, ApiKeyStore, EnrollmentTokenRecord, EnrollmentTokenStore } from '../types.js';
import { changesOf, oneOf, parseJson, rowsOf, type Scope } from './db.js';

interface ApiKeyRow {
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

const toKey = (row: ApiKeyRow): ApiKeyRecord => ({
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

export function pgApiKeyStore(s: Scope): ApiKeyStore {
  return {
    async create(r) {
      await s.db.query(
        `INSERT INTO api_keys (id, name, type, role, hash, prefix, policy, agent_id, created_at, last_used_at, revoked_at, owner_user_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
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
        ],
      );
    },
    getById: async (id) => {
      const row = await oneOf<ApiKeyRow>(s, 'SELECT * FROM api_keys WHERE id = $1', [id]);
      return row && toKey(row);
    },
    findByHash: async (hash) => {
      const row = await oneOf<ApiKeyRow>(s, 'SELECT * FROM api_keys WHERE hash = $1', [hash]);
      return row && toKey(row);
    },
    list: async () => (await rowsOf<ApiKeyRow>(s, 'SELECT * FROM api_keys ORDER BY created_at, name COLLATE "C"')).map(toKey),
    listByOwner: async (userId) =>
      (await rowsOf<ApiKeyRow>(s, 'SELECT * FROM api_keys WHERE owner_user_id = $1 ORDER BY created_at, name COLLATE "C"', [userId])).map(
        toKey,
      ),
    // Guarded by the hash the caller read: a second rotation from the same key (any hub) finds it changed.
    rotate: async (id, oldHash, hash, prefix) =>
      (await changesOf(s, 'UPDATE api_keys SET hash = $1, prefix = $2 WHERE id = $3 AND hash = $4 AND revoked_at IS NULL', [
        hash,
        prefix,
        id,
        oldHash,
      ])) === 1,
    async revoke(id, at) {
      await s.db.query('UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id]);
    },
    async touch(id, at) {
      await s.db.query('UPDATE api_keys SET last_used_at = $1 WHERE id = $2', [at, id]);
    },
    async revokeForAgent(agentId, at) {
      await s.db.query('UPDATE api_keys SET revoked_at = $1 WHERE agent_id = $2 AND revoked_at IS NULL', [at, agentId]);
    },
  };
}

interface TokenRow {
  id: string;
  hash: string;
  prefix: string;
  bound_name: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  used_by: string | null;
}

const toToken = (row: TokenRow): EnrollmentTokenRecord => ({
  id: row.id,
  hash: row.hash,
  prefix: row.prefix,
  boundName: row.bound_name,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  usedAt: row.used_at,
  usedBy: row.used_by,
});

export function pgEnrollmentTokenStore(s: Scope): EnrollmentTokenStore {
  return {
    async create(r) {
      await s.db.query(
        'INSERT INTO enrollment_tokens (id, hash, prefix, bound_name, created_at, expires_at, used_at, used_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
        [r.id, r.hash, r.prefix, r.boundName, r.createdAt, r.expiresAt, r.usedAt, r.usedBy],
      );
    },
    list: async () => (await rowsOf<TokenRow>(s, 'SELECT * FROM enrollment_tokens ORDER BY created_at')).map(toToken),
    // One statement checks and consumes: a racing UPDATE on the same row waits for this one and then finds used_at set.
    consume: async (hash, now, usedBy) => {
      const row = await oneOf<TokenRow>(
        s,
        'UPDATE enrollment_tokens SET used_at = $1, used_by = $2 WHERE hash = $3 AND used_at IS NULL AND expires_at > $1 RETURNING *',
        [now, usedBy, hash],
      );
      return row && toToken(row);
    },
    findByHash: async (hash) => {
      const row = await oneOf<TokenRow>(s, 'SELECT * FROM enrollment_tokens WHERE hash = $1', [hash]);
      return row && toToken(row);
    },
    async revoke(id) {
      await s.db.query('DELETE FROM enrollment_tokens WHERE id = $1', [id]);
    },
  };
}
