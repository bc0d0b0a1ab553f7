import type Database from 'better-sqlite3';
import type { AuthorizedGroupStore, LoginStateStore } from '../types.js';
import { LOGIN_STATE_COLUMNS, loginStateValues, toGroup, toLoginState, type GroupRow, type LoginStateRow } from '../rows/index.js';
import type { Sync } from './sync.js';

/** Started sign-ins: single use is one UPDATE … RETURNING, so two racing callbacks cannot both see `used_at` empty. */
export function sqliteLoginStateStore(db: Database.Database): Sync<LoginStateStore> {
  const insert = db.prepare(`INSERT INTO login_states (${LOGIN_STATE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`);
  const get = db.prepare<[string], LoginStateRow>('SELECT * FROM login_states WHERE state_hash = ?');
  const markUsed = db.prepare('UPDATE login_states SET used_at = ? WHERE state_hash = ? AND used_at IS NULL');
  const take = db.transaction((hash: string, now: string): LoginStateRow | undefined => {
    const row = get.get(hash);
    if (row) markUsed.run(now, hash);
    return row;
  });
  return {
    put(r) {
      insert.run(...loginStateValues(r));
    },
    take(stateHash, now) {
      const row = take.immediate(stateHash, now);
      return row && toLoginState(row);
    },
    removeExpired: (now) => db.prepare('DELETE FROM login_states WHERE expires_at <= ?').run(now).changes,
  };
}

export function sqliteAuthorizedGroupStore(db: Database.Database): Sync<AuthorizedGroupStore> {
  return {
    list: () => db.prepare<[], GroupRow>('SELECT * FROM authorized_groups ORDER BY display_name, group_id').all().map(toGroup),
    get(groupId) {
      const row = db.prepare<[string], GroupRow>('SELECT * FROM authorized_groups WHERE group_id = ?').get(groupId);
      return row && toGroup(row);
    },
    upsert(r) {
      db.prepare(
        `INSERT INTO authorized_groups (group_id, display_name, default_role, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(group_id) DO UPDATE SET display_name = excluded.display_name, default_role = excluded.default_role`,
      ).run(r.groupId, r.displayName, r.defaultRole, r.createdAt);
    },
    remove: (groupId) => db.prepare('DELETE FROM authorized_groups WHERE group_id = ?').run(groupId).changes > 0,
  };
}
