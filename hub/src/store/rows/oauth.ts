import type { OAuthRecord } from '../types.js';

export interface OAuthRow {
  kind: string;
  id: string;
  payload: string;
  grant_id: string | null;
  user_id: string | null;
  client_id: string | null;
  uid: string | null;
  expires_at: string | null;
  consumed_at: string | null;
}

export const toOAuthRecord = (row: OAuthRow): OAuthRecord => ({
  kind: row.kind,
  id: row.id,
  payload: row.payload,
  grantId: row.grant_id,
  userId: row.user_id,
  clientId: row.client_id,
  uid: row.uid,
  expiresAt: row.expires_at,
  consumedAt: row.consumed_at,
});

/** What `put` writes (`consumed_at` only ever by `consume`): `INSERT INTO oauth_records (OAUTH_PUT_COLUMNS)`, values in `oauthPutValues` order. */
export const OAUTH_PUT_COLUMNS = 'kind, id, payload, grant_id, user_id, client_id, uid, expires_at';
export const oauthPutValues = (r: Omit<OAuthRecord, 'consumedAt'>): unknown[] => [
  r.kind,
  r.id,
  r.payload,
  r.grantId,
  r.userId,
  r.clientId,
  r.uid,
  r.expiresAt,
];
