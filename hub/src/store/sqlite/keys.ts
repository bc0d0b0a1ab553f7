import type Database from 'better-sqlite3';
import type { ApiKeyStore, EnrollmentTokenStore } from '../types.js';
import * as tables from '../rows/index.js';
import type { Sync } from './sync.js';

export function sqliteApiKeyStore(db: Database.Database): Sync<ApiKeyStore> {
  const byHash = db.prepare<[string], tables.ApiKeyRow>('SELECT * FROM api_keys WHERE hash = ?');
  const byId = db.prepare<[string], tables.ApiKeyRow>('SELECT * FROM api_keys WHERE id = ?');
  return {
    create(r) {
      db.prepare(`INSERT INTO api_keys (${tables.API_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        ...tables.apiKeyValues(r),
      );
    },
    getById: (id) => {
      const row = byId.get(id);
      return row && tables.toApiKey(row);
    },
    findByHash: (hash) => {
      const row = byHash.get(hash);
      return row && tables.toApiKey(row);
    },
    list: () => db.prepare<[], tables.ApiKeyRow>('SELECT * FROM api_keys ORDER BY created_at, name').all().map(tables.toApiKey),
    listByOwner: (userId) =>
      db
        .prepare<[string], tables.ApiKeyRow>('SELECT * FROM api_keys WHERE owner_user_id = ? ORDER BY created_at, name')
        .all(userId)
        .map(tables.toApiKey),
    rotate(id, oldHash, hash, prefix) {
      // Guarded by the hash the caller read: a second rotation from the same key finds it changed.
      return (
        db
          .prepare('UPDATE api_keys SET hash = ?, prefix = ? WHERE id = ? AND hash = ? AND revoked_at IS NULL')
          .run(hash, prefix, id, oldHash).changes === 1
      );
    },
    revoke(id, at) {
      db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id);
    },
    touch(id, at) {
      db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(at, id);
    },
    revokeForAgent(agentId, at) {
      db.prepare('UPDATE api_keys SET revoked_at = ? WHERE agent_id = ? AND revoked_at IS NULL').run(at, agentId);
    },
  };
}

export function sqliteEnrollmentTokenStore(db: Database.Database): Sync<EnrollmentTokenStore> {
  // One statement both checks and consumes, so two racing enrolments (even from
  // two processes on the same file) cannot both see the token unused.
  const consume = db.prepare<[string, string, string, string], tables.TokenRow>(
    'UPDATE enrollment_tokens SET used_at = ?, used_by = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ? RETURNING *',
  );
  return {
    create(r) {
      db.prepare(`INSERT INTO enrollment_tokens (${tables.TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(...tables.tokenValues(r));
    },
    list: () => db.prepare<[], tables.TokenRow>('SELECT * FROM enrollment_tokens ORDER BY created_at').all().map(tables.toToken),
    consume(hash, now, usedBy) {
      const row = consume.get(now, usedBy, hash, now);
      return row && tables.toToken(row);
    },
    findByHash(hash) {
      const row = db.prepare<[string], tables.TokenRow>('SELECT * FROM enrollment_tokens WHERE hash = ?').get(hash);
      return row && tables.toToken(row);
    },
    revoke(id) {
      db.prepare('DELETE FROM enrollment_tokens WHERE id = ?').run(id);
    },
  };
}
