import type { ApiKeyStore, EnrollmentTokenStore } from '../types.js';
import * as tables from '../rows/index.js';
import { changesOf, oneOf, rowsOf, type Scope } from './db.js';

export function pgApiKeyStore(s: Scope): ApiKeyStore {
  return {
    async create(r) {
      await s.db.query(
        `INSERT INTO api_keys (${tables.API_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        tables.apiKeyValues(r),
      );
    },
    getById: async (id) => {
      const row = await oneOf<tables.ApiKeyRow>(s, 'SELECT * FROM api_keys WHERE id = $1', [id]);
      return row && tables.toApiKey(row);
    },
    findByHash: async (hash) => {
      const row = await oneOf<tables.ApiKeyRow>(s, 'SELECT * FROM api_keys WHERE hash = $1', [hash]);
      return row && tables.toApiKey(row);
    },
    list: async () =>
      (await rowsOf<tables.ApiKeyRow>(s, 'SELECT * FROM api_keys ORDER BY created_at, name COLLATE "C"')).map(tables.toApiKey),
    listByOwner: async (userId) =>
      (
        await rowsOf<tables.ApiKeyRow>(s, 'SELECT * FROM api_keys WHERE owner_user_id = $1 ORDER BY created_at, name COLLATE "C"', [userId])
      ).map(tables.toApiKey),
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

export function pgEnrollmentTokenStore(s: Scope): EnrollmentTokenStore {
  return {
    async create(r) {
      await s.db.query(
        `INSERT INTO enrollment_tokens (${tables.TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        tables.tokenValues(r),
      );
    },
    list: async () => (await rowsOf<tables.TokenRow>(s, 'SELECT * FROM enrollment_tokens ORDER BY created_at')).map(tables.toToken),
    // One statement checks and consumes: a racing UPDATE on the same row waits for this one and then finds used_at set.
    consume: async (hash, now, usedBy) => {
      const row = await oneOf<tables.TokenRow>(
        s,
        'UPDATE enrollment_tokens SET used_at = $1, used_by = $2 WHERE hash = $3 AND used_at IS NULL AND expires_at > $1 RETURNING *',
        [now, usedBy, hash],
      );
      return row && tables.toToken(row);
    },
    findByHash: async (hash) => {
      const row = await oneOf<tables.TokenRow>(s, 'SELECT * FROM enrollment_tokens WHERE hash = $1', [hash]);
      return row && tables.toToken(row);
    },
    async revoke(id) {
      await s.db.query('DELETE FROM enrollment_tokens WHERE id = $1', [id]);
    },
  };
}
