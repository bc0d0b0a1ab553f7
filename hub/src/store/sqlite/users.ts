import type Database from 'better-sqlite3';
import type { SessionRecord, SessionStore, UserRecord, UserStore } from '../types.js';
import type { Sync } from './sync.js';

interface UserRow {
  id: string;
  name: string;
  email: string | null;
  role: UserRecord['role'];
  enabled: number;
  created_at: string;
}

function toUser(row: UserRow): UserRecord {
  return { id: row.id, name: row.name, email: row.email, role: row.role, enabled: row.enabled === 1, createdAt: row.created_at };
}

export function sqliteUserStore(db: Database.Database): Sync<UserStore> {
  return {
    upsert(r) {
      db.prepare(
        `INSERT INTO users (id, name, email, role, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, email = excluded.email, role = excluded.role, enabled = excluded.enabled`,
      ).run(r.id, r.name, r.email, r.role, r.enabled ? 1 : 0, r.createdAt);
    },
    getById(id) {
      const row = db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?').get(id);
      return row && toUser(row);
    },
    getByName(name) {
      const row = db.prepare<[string], UserRow>('SELECT * FROM users WHERE name = ?').get(name);
      return row && toUser(row);
    },
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
  };
}
