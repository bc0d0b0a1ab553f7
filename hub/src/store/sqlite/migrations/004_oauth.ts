import type { Migration } from './index.js';

/**
 * The hub as an OAuth 2.1 authorization server for MCP clients (issue 24): every
 * oidc-provider record (tokens, codes, grants, registered clients, its own
 * sessions and interactions) in one generic table. The key is the SHA-256 of the
 * model's id, so no token or code is stored in the clear; grant, user and client
 * are copied out of the payload so a revocation is one DELETE.
 */
export const migration004: Migration = {
  version: 4,
  name: 'oauth',
  sql: `
    CREATE TABLE oauth_records (
      kind TEXT NOT NULL,
      id TEXT NOT NULL,
      payload TEXT NOT NULL,
      grant_id TEXT,
      user_id TEXT,
      client_id TEXT,
      uid TEXT,
      expires_at TEXT,
      consumed_at TEXT,
      PRIMARY KEY (kind, id)
    ) STRICT;
    CREATE INDEX oauth_records_grant ON oauth_records (grant_id) WHERE grant_id IS NOT NULL;
    CREATE INDEX oauth_records_user ON oauth_records (user_id) WHERE user_id IS NOT NULL;
    CREATE INDEX oauth_records_client ON oauth_records (client_id) WHERE client_id IS NOT NULL;
    CREATE INDEX oauth_records_uid ON oauth_records (kind, uid) WHERE uid IS NOT NULL;
    CREATE INDEX oauth_records_expiry ON oauth_records (expires_at) WHERE expires_at IS NOT NULL;
  `,
};
