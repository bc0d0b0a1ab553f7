import type {
  AuthorizedGroupRecord,
  AuthorizedGroupStore,
  LoginStateStore,
  SessionStore,
  SettingsStore,
  UserRecord,
  UserStore,
} from '../types.js';
import { changesOf, oneOf, parseJson, rowsOf, type Scope } from './db.js';

interface UserRow {
  id: string;
  name: string;
  email: string | null;
  role: UserRecord['role'];
  enabled: boolean;
  created_at: string;
  subject: string | null;
  display_name: string | null;
  origin: UserRecord['origin'];
  groups: string;
  last_login_at: string | null;
}

const toUser = (row: UserRow): UserRecord => ({
  id: row.id,
  name: row.name,
  email: row.email,
  role: row.role,
  enabled: row.enabled,
  createdAt: row.created_at,
  subject: row.subject,
  displayName: row.display_name,
  origin: row.origin,
  groups: parseJson<string[]>(row.groups, []),
  lastLoginAt: row.last_login_at,
});

export function pgSettingsStore(s: Scope): SettingsStore {
  return {
    get: async (key) => (await oneOf<{ value: string }>(s, 'SELECT value FROM settings WHERE key = $1', [key]))?.value,
    async set(key, value) {
      await s.db.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [
        key,
        value,
      ]);
    },
  };
}

export function pgUserStore(s: Scope): UserStore {
  const one = async (sql: string, value: string) => {
    const row = await oneOf<UserRow>(s, sql, [value]);
    return row && toUser(row);
  };
  return {
    async upsert(r) {
      await s.db.query(
        `INSERT INTO users (id, name, email, role, enabled, created_at, subject, display_name, origin, groups, last_login_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, role = excluded.role, enabled = excluded.enabled,
           subject = excluded.subject, display_name = excluded.display_name, origin = excluded.origin, groups = excluded.groups,
           last_login_at = excluded.last_login_at`,
        [
          r.id,
          r.name,
          r.email,
          r.role,
          r.enabled,
          r.createdAt,
          r.subject,
          r.displayName,
          r.origin,
          JSON.stringify(r.groups),
          r.lastLoginAt,
        ],
      );
    },
    getById: (id) => one('SELECT * FROM users WHERE id = $1', id),
    getByName: (name) => one('SELECT * FROM users WHERE name = $1', name),
    getBySubject: (subject) => one('SELECT * FROM users WHERE subject = $1', subject),
    getByEmail: (email) => one('SELECT * FROM users WHERE lower(email) = lower($1) ORDER BY created_at LIMIT 1', email),
    getUnclaimedByEmail: (email) =>
      one('SELECT * FROM users WHERE subject IS NULL AND lower(email) = lower($1) ORDER BY created_at LIMIT 1', email),
    list: async () => (await rowsOf<UserRow>(s, 'SELECT * FROM users ORDER BY name COLLATE "C"')).map(toUser),
    async remove(id) {
      await s.db.query('DELETE FROM users WHERE id = $1', [id]);
    },
  };
}

interface SessionRow {
  hash: string;
  user_id: string;
  created_at: string;
  expires_at: string;
}

export function pgSessionStore(s: Scope): SessionStore {
  return {
    async create(r) {
      await s.db.query('INSERT INTO sessions (hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)', [
        r.hash,
        r.userId,
        r.createdAt,
        r.expiresAt,
      ]);
    },
    async get(hash) {
      const row = await oneOf<SessionRow>(s, 'SELECT * FROM sessions WHERE hash = $1', [hash]);
      return row && { hash: row.hash, userId: row.user_id, createdAt: row.created_at, expiresAt: row.expires_at };
    },
    async extend(hash, expiresAt) {
      await s.db.query('UPDATE sessions SET expires_at = $1 WHERE hash = $2', [expiresAt, hash]);
    },
    async remove(hash) {
      await s.db.query('DELETE FROM sessions WHERE hash = $1', [hash]);
    },
    removeExpired: (now) => changesOf(s, 'DELETE FROM sessions WHERE expires_at <= $1', [now]),
    removeForUser: (userId) => changesOf(s, 'DELETE FROM sessions WHERE user_id = $1', [userId]),
  };
}

interface LoginStateRow {
  state_hash: string;
  binding_hash: string;
  code_verifier: string;
  nonce: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/** Single use in one statement: the row as it was before this take (used_at null on the first), marked used. */
export function pgLoginStateStore(s: Scope): LoginStateStore {
  return {
    async put(r) {
      await s.db.query(
        'INSERT INTO login_states (state_hash, binding_hash, code_verifier, nonce, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [r.stateHash, r.bindingHash, r.codeVerifier, r.nonce, r.createdAt, r.expiresAt, r.usedAt],
      );
    },
    async take(stateHash, now) {
      // The row is locked by the UPDATE, so of two racing takes the second sees the first's used_at.
      const row = await oneOf<LoginStateRow>(
        s,
        `UPDATE login_states l SET used_at = COALESCE(l.used_at, $2)
         FROM (SELECT state_hash, used_at FROM login_states WHERE state_hash = $1 FOR UPDATE) before
         WHERE l.state_hash = before.state_hash
         RETURNING l.state_hash, l.binding_hash, l.code_verifier, l.nonce, l.created_at, l.expires_at, before.used_at`,
        [stateHash, now],
      );
      return (
        row && {
          stateHash: row.state_hash,
          bindingHash: row.binding_hash,
          codeVerifier: row.code_verifier,
          nonce: row.nonce,
          createdAt: row.created_at,
          expiresAt: row.expires_at,
          usedAt: row.used_at,
        }
      );
    },
    removeExpired: (now) => changesOf(s, 'DELETE FROM login_states WHERE expires_at <= $1', [now]),
  };
}

interface GroupRow {
  group_id: string;
  display_name: string;
  default_role: AuthorizedGroupRecord['defaultRole'];
  created_at: string;
}

const toGroup = (row: GroupRow): AuthorizedGroupRecord => ({
  groupId: row.group_id,
  displayName: row.display_name,
  defaultRole: row.default_role,
  createdAt: row.created_at,
});

export function pgAuthorizedGroupStore(s: Scope): AuthorizedGroupStore {
  return {
    list: async () =>
      (await rowsOf<GroupRow>(s, 'SELECT * FROM authorized_groups ORDER BY display_name COLLATE "C", group_id COLLATE "C"')).map(toGroup),
    get: async (groupId) => {
      const row = await oneOf<GroupRow>(s, 'SELECT * FROM authorized_groups WHERE group_id = $1', [groupId]);
      return row && toGroup(row);
    },
    async upsert(r) {
      await s.db.query(
        `INSERT INTO authorized_groups (group_id, display_name, default_role, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (group_id) DO UPDATE SET display_name = excluded.display_name, default_role = excluded.default_role`,
        [r.groupId, r.displayName, r.defaultRole, r.createdAt],
      );
    },
    remove: async (groupId) => (await changesOf(s, 'DELETE FROM authorized_groups WHERE group_id = $1', [groupId])) > 0,
  };
}
