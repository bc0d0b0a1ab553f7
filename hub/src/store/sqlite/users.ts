import type Database from 'better-sqlite3';
import type { SessionRecord, SessionStore, UserStore } from '../types.js';
import { toSession, toUser, USER_COLUMNS, userValues, type SessionRow, type UserRow } from '../rows/index.js';
import type { Sync } from './sync.js';

export function sqliteUserStore(db: Database.Database): Sync<UserStore> {
  const one = (sql: string, value: string) => {
    const row = db.prepare<[string], UserRow>(sql).get(value);
    return row && toUser(row);
  };
  return {
    upsert(r) {
      db.prepare(
        `INSERT INTO users (${USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, email = excluded.email, role = excluded.role, enabled = excluded.enabled,
           subject = excluded.subject, display_name = excluded.display_name, origin = excluded.origin, groups = excluded.groups,
           last_login_at = excluded.last_login_at`,
      ).run(...userValues(r, r.enabled ? 1 : 0));
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
      return row && toSession(row);
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
