import type Database from 'better-sqlite3';
import type { SessionRecord, SessionStore, UserRecord, UserStore } from '../types.js';
import { parseJson } from './json.js';
import type { Sync } from './sync.js';

interface UserRow {
  id: string;
  name: string;
  email: string | null;
  role: UserRecord['role'];
  enabled: number;
  created_at: string;
  subject: string | null;
  display_name: string | null;
  origin: UserRecord['origin'];
  groups: string;
  last_login_at: string | null;
}

function toUser(row: UserRow): UserRecord {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    role: row.role,
    enabled: row.enabled === 1,
    createdAt: row.created_at,
    subject: row.subject,
    displayName: row.display_name,
    origin: row.origin,
    groups: parseJson<string[]>(row.groups, []),
    lastLoginAt: row.last_login_at,
  };
}

export function sqliteUserStore(db: Database.Database): Sync<UserStore> {
  const one = (sql: string, value: string) => {
    const row = db.prepare<[string], UserRow>(sql).get(value);
    return row && toUser(row);
  };
  return {
    upsert(r) {
      db.prepare(
        `INSERT INTO users (id, name, email, role, enabled, created_at, subject, display_name, origin, groups, last_login_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, email = excluded.email, role = excluded.role, enabled = excluded.enabled,
           subject = excluded.subject, display_name = excluded.display_name, origin = excluded.origin, groups = excluded.groups,
           last_login_at = excluded.last_login_at`,
      ).run(
        r.id,
        r.name,
        r.email,
        r.role,
        r.enabled ? 1 : 0,
        r.createdAt,
        r.subject,
        r.displayName,
        r.origin,
        JSON.stringify(r.groups),
        r.lastLoginAt,
      );
    },
    getById: (id) => one('SELECT * FROM users WHERE id = ?', id),
    getByName: (name) => one('SELECT * FROM users WHERE name = ?', name),
    getBySubject: (subject) => one('SELECT * FROM users WHERE subject = ?', subject),
    getByEmail: (email) => one('SELECT * FROM users WHERE lower(email) = lower(?) ORDER BY created_at LIMIT 1', email),
    getUnclaimedByEmail: (email) =>
      one('SELECT * FROM users WHERE subject IS NULL AND lower(email) = lower(?) ORDER BY created_at LIMIT 1', email),
    list: () => db.prepare<[], UserRow>('SELECT * FROM users ORDER BY name').all().map(toUser),
    remove(id) {
      db.prepare('DELETE FROM users WHERE id = ?').run(id);
    },
  };
}

interface SessionRow {
  hash: string;
  user_id: string;
  created_at: string;
  expires_at: string;
}

export function sqliteSessionStore(db: Database.Database): Sync<SessionStore> {
  const get = db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE hash = ?');
  return {
    create(r: SessionRecord) {
      db.prepare('INSERT INTO sessions (hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)').run(
        r.hash,
        r.userId,
        r.createdAt,
        r.expiresAt,
      );
    },
    get(hash) {
      const row = get.get(hash);
      return row && { hash: row.hash, userId: row.user_id, createdAt: row.created_at, expiresAt: row.expires_at };
    },
    extend(hash, expiresAt) {
      db.prepare('UPDATE sessions SET expires_at = ? WHERE hash = ?').run(expiresAt, hash);
    },
    remove(hash) {
      db.prepare('DELETE FROM sessions WHERE hash = ?').run(hash);
    },
    removeExpired: (now) => db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now).changes,
    removeForUser: (userId) => db.prepare('DELETE FROM sessions WHERE user_id = ?').run(userId).changes,
  };
}
