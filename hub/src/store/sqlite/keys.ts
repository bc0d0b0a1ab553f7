import type Database from 'better-sqlite3';
import type { KeyPolicy } from '../../services.js';
import type { ApiKeyRecord, ApiKeyStore, EnrollmentTokenRecord, EnrollmentTokenStore } from '../types.js';
import type { Sync } from './sync.js';
import { parseJson } from './json.js';

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

function toKey(row: ApiKeyRow): ApiKeyRecord {
  return {
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
  };
}

export function sqliteApiKeyStore(db: Database.Database): Sync<ApiKeyStore> {
  const byHash = db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE hash = ?');
  const byId = db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE id = ?');
  return {
    create(r) {
      db.prepare(
        `INSERT INTO api_keys (id, name, type, role, hash, prefix, policy, agent_id, created_at, last_used_at, revoked_at, owner_user_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
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
      );
    },
    getById: (id) => {
      const row = byId.get(id);
      return row && toKey(row);
    },
    findByHash: (hash) => {
      const row = byHash.get(hash);
      return row && toKey(row);
    },
    list: () => db.prepare<[], ApiKeyRow>('SELECT * FROM api_keys ORDER BY created_at, name').all().map(toKey),
    listByOwner: (userId) =>
      db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE owner_user_id = ? ORDER BY created_at, name').all(userId).map(toKey),
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

function toToken(row: TokenRow): EnrollmentTokenRecord {
  return {
    id: row.id,
    hash: row.hash,
    prefix: row.prefix,
    boundName: row.bound_name,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
    usedBy: row.used_by,
  };
}

export function sqliteEnrollmentTokenStore(db: Database.Database): Sync<EnrollmentTokenStore> {
  // One statement both checks and consumes, so two racing enrolments (even from
  // two processes on the same file) cannot both see the token unused.
  const consume = db.prepare<[string, string, string, string], TokenRow>(
    'UPDATE enrollment_tokens SET used_at = ?, used_by = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ? RETURNING *',
  );
  return {
    create(r) {
      db.prepare(
        'INSERT INTO enrollment_tokens (id, hash, prefix, bound_name, created_at, expires_at, used_at, used_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(r.id, r.hash, r.prefix, r.boundName, r.createdAt, r.expiresAt, r.usedAt, r.usedBy);
    },
    list: () => db.prepare<[], TokenRow>('SELECT * FROM enrollment_tokens ORDER BY created_at').all().map(toToken),
    consume(hash, now, usedBy) {
      const row = consume.get(now, usedBy, hash, now);
      return row && toToken(row);
    },
    findByHash(hash) {
      const row = db.prepare<[string], TokenRow>('SELECT * FROM enrollment_tokens WHERE hash = ?').get(hash);
      return row && toToken(row);
    },
    revoke(id) {
      db.prepare('DELETE FROM enrollment_tokens WHERE id = ?').run(id);
    },
  };
}
