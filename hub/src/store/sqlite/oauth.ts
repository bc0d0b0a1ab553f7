import type Database from 'better-sqlite3';
import type { OAuthRecordStore } from '../types.js';
import { OAUTH_PUT_COLUMNS, oauthPutValues, toOAuthRecord, type OAuthRow } from '../rows/index.js';
import type { Sync } from './sync.js';

/** The authorization server's records (hub/src/oauth/adapter.ts): one generic table, see migration 004. */
export function sqliteOAuthStore(db: Database.Database): Sync<OAuthRecordStore> {
  const put = db.prepare(
    `INSERT INTO oauth_records (${OAUTH_PUT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(kind, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id, user_id = excluded.user_id,
       client_id = excluded.client_id, uid = excluded.uid, expires_at = excluded.expires_at`,
  );
  const get = db.prepare<[string, string], OAuthRow>('SELECT * FROM oauth_records WHERE kind = ? AND id = ?');
  const byUid = db.prepare<[string, string], OAuthRow>('SELECT * FROM oauth_records WHERE kind = ? AND uid = ?');
  const consume = db.prepare('UPDATE oauth_records SET consumed_at = ? WHERE kind = ? AND id = ? AND consumed_at IS NULL');
  const remove = db.prepare('DELETE FROM oauth_records WHERE kind = ? AND id = ?');
  const byGrant = db.prepare('DELETE FROM oauth_records WHERE grant_id = ?');
  const byUser = db.prepare('DELETE FROM oauth_records WHERE user_id = ?');
  const byClient = db.prepare('DELETE FROM oauth_records WHERE client_id = ?');
  const list = db.prepare<[{ kind: string; user: string | null; client: string | null; now: string }], OAuthRow>(
    `SELECT * FROM oauth_records WHERE kind = @kind AND (@user IS NULL OR user_id = @user) AND (@client IS NULL OR client_id = @client)
       AND (expires_at IS NULL OR expires_at > @now) ORDER BY rowid`,
  );
  const expired = db.prepare('DELETE FROM oauth_records WHERE expires_at IS NOT NULL AND expires_at <= ?');
  return {
    put(r) {
      put.run(...oauthPutValues(r));
    },
    get(kind, id) {
      const row = get.get(kind, id);
      return row && toOAuthRecord(row);
    },
    getByUid(kind, uid) {
      const row = byUid.get(kind, uid);
      return row && toOAuthRecord(row);
    },
    consume: (kind, id, at) => consume.run(at, kind, id).changes === 1,
    remove(kind, id) {
      remove.run(kind, id);
    },
    removeWhere(match) {
      if ('grantId' in match) return byGrant.run(match.grantId).changes;
      if ('userId' in match) return byUser.run(match.userId).changes;
      return byClient.run(match.clientId).changes;
    },
    list: (kind, match, now) => list.all({ kind, user: match.userId ?? null, client: match.clientId ?? null, now }).map(toOAuthRecord),
    removeExpired: (now) => expired.run(now).changes,
  };
}
