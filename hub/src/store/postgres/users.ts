import type { AuthorizedGroupStore, LoginStateStore, SessionStore, SettingsStore, UserStore } from '../types.js';
import {
  LOGIN_STATE_COLUMNS,
  loginStateValues,
  toGroup,
  toLoginState,
  toSession,
  toUser,
  USER_COLUMNS,
  userValues,
  type GroupRow,
  type LoginStateRow,
  type SessionRow,
  type UserRow,
} from '../rows/index.js';
import { changesOf, oneOf, rowsOf, type Scope } from './db.js';

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
        `INSERT INTO users (${USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, role = excluded.role, enabled = excluded.enabled,
           subject = excluded.subject, display_name = excluded.display_name, origin = excluded.origin, groups = excluded.groups,
           last_login_at = excluded.last_login_at`,
        userValues(r, r.enabled),
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
      return row && toSession(row);
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

/** Single use in one statement: the row as it was before this take (used_at null on the first), marked used. */
export function pgLoginStateStore(s: Scope): LoginStateStore {
  return {
    async put(r) {
      await s.db.query(`INSERT INTO login_states (${LOGIN_STATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, loginStateValues(r));
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
      return row && toLoginState(row);
    },
    removeExpired: (now) => changesOf(s, 'DELETE FROM login_states WHERE expires_at <= $1', [now]),
  };
}

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
