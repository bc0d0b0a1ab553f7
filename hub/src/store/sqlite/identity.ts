import type Database from 'better-sqlite3';
import type { AuthorizedGroupRecord, AuthorizedGroupStore, LoginStateStore } from '../types.js';
import type { Sync } from './sync.js';

interface LoginStateRow {
  state_hash: string;
  binding_hash: string;
  code_verifier: string;
  nonce: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/** Started sign-ins: single use is one UPDATE … RETURNING, so two racing callbacks cannot both see `used_at` empty. */
export function sqliteLoginStateStore(db: Database.Database): Sync<LoginStateStore> {
  const insert = db.prepare(
    'INSERT INTO login_states (state_hash, binding_hash, code_verifier, nonce, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const get = db.prepare<[string], LoginStateRow>('SELECT * FROM login_states WHERE state_hash = ?');
  const markUsed = db.prepare('UPDATE login_states SET used_at = ? WHERE state_hash = ? AND used_at IS NULL');
  const take = db.transaction((hash: string, now: string): LoginStateRow | undefined => {
    const row = get.get(hash);
    if (row) markUsed.run(now, hash);
    return row;
  });
  return {
    put(r) {
      insert.run(r.stateHash, r.bindingHash, r.codeVerifier, r.nonce, r.createdAt, r.expiresAt, r.usedAt);
    },
    take(stateHash, now) {
      const row = take.immediate(stateHash, now);
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
    removeExpired: (now) => db.prepare('DELETE FROM login_states WHERE expires_at <= ?').run(now).changes,
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
