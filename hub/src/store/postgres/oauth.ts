import { OAUTH_PUT_COLUMNS, oauthPutValues, toOAuthRecord, type OAuthRow } from '../rows/index.js';
import type { OAuthRecordStore } from '../types.js';
import { changesOf, oneOf, rowsOf, type Scope } from './db.js';

/** The authorization server's records (hub/src/oauth/adapter.ts), as on SQLite (migration 4). */
export function pgOAuthStore(s: Scope): OAuthRecordStore {
  return {
    async put(r) {
      await s.db.query(
        `INSERT INTO oauth_records (${OAUTH_PUT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (kind, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id, user_id = excluded.user_id,
           client_id = excluded.client_id, uid = excluded.uid, expires_at = excluded.expires_at`,
        oauthPutValues(r),
      );
    },
    get: async (kind, id) => {
      const row = await oneOf<OAuthRow>(s, 'SELECT * FROM oauth_records WHERE kind = $1 AND id = $2', [kind, id]);
      return row && toOAuthRecord(row);
    },
    getByUid: async (kind, uid) => {
      const row = await oneOf<OAuthRow>(s, 'SELECT * FROM oauth_records WHERE kind = $1 AND uid = $2', [kind, uid]);
      return row && toOAuthRecord(row);
    },
    // One conditional UPDATE: of two hubs redeeming one code, one sees consumed_at empty.
    consume: async (kind, id, at) =>
      (await changesOf(s, 'UPDATE oauth_records SET consumed_at = $1 WHERE kind = $2 AND id = $3 AND consumed_at IS NULL', [
        at,
        kind,
        id,
      ])) === 1,
    async remove(kind, id) {
      await s.db.query('DELETE FROM oauth_records WHERE kind = $1 AND id = $2', [kind, id]);
    },
    removeWhere: (match) => {
      if ('grantId' in match) return changesOf(s, 'DELETE FROM oauth_records WHERE grant_id = $1', [match.grantId]);
      if ('userId' in match) return changesOf(s, 'DELETE FROM oauth_records WHERE user_id = $1', [match.userId]);
      return changesOf(s, 'DELETE FROM oauth_records WHERE client_id = $1', [match.clientId]);
    },
    list: async (kind, match, now) =>
      (
        await rowsOf<OAuthRow>(
          s,
          `SELECT * FROM oauth_records WHERE kind = $1 AND ($2::text IS NULL OR user_id = $2) AND ($3::text IS NULL OR client_id = $3)
             AND (expires_at IS NULL OR expires_at > $4) ORDER BY ord`,
          [kind, match.userId ?? null, match.clientId ?? null, now],
        )
      ).map(toOAuthRecord),
    removeExpired: (now) => changesOf(s, 'DELETE FROM oauth_records WHERE expires_at IS NOT NULL AND expires_at <= $1', [now]),
  };
}
