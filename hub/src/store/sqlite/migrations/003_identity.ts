import type { Migration } from './index.js';

/**
 * Single sign-on (issue 20): users keyed on the provider's stable subject
 * (filled in at first sign-in; e-mail only finds a record an admin added
 * before it), where a user came from (an admin, or an authorized group), the
 * groups the provider reported at the last sign-in (so a group change applies
 * to live sessions), authorized groups, and started sign-ins (state, nonce and
 * PKCE verifier, 10 minutes, single use; only the state's hash is a key), and
 * the owner of a user's self-service API keys (removed with the user).
 */
export const migration003: Migration = {
  version: 3,
  name: 'identity',
  sql: `
    ALTER TABLE users ADD COLUMN subject TEXT;
    ALTER TABLE users ADD COLUMN display_name TEXT;
    ALTER TABLE users ADD COLUMN origin TEXT NOT NULL DEFAULT 'admin' CHECK (origin IN ('admin', 'group'));
    ALTER TABLE users ADD COLUMN groups TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE users ADD COLUMN last_login_at TEXT;
    CREATE UNIQUE INDEX users_subject ON users (subject) WHERE subject IS NOT NULL;
    CREATE INDEX users_email ON users (lower(email)) WHERE subject IS NULL;
    CREATE INDEX sessions_user ON sessions (user_id);

    CREATE TABLE authorized_groups (
      group_id TEXT PRIMARY KEY,
      display_name TEXT NOT NULL,
      default_role TEXT NOT NULL CHECK (default_role IN ('admin', 'member')),
      created_at TEXT NOT NULL
    ) STRICT;

    CREATE TABLE login_states (
      state_hash TEXT PRIMARY KEY,
      binding_hash TEXT NOT NULL,
      code_verifier TEXT NOT NULL,
      nonce TEXT NOT NULL,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      used_at TEXT
    ) STRICT;
    CREATE INDEX login_states_expiry ON login_states (expires_at);

    -- "My keys": a user's own MCP keys go with the user.
    ALTER TABLE api_keys ADD COLUMN owner_user_id TEXT REFERENCES users (id) ON DELETE CASCADE;
    CREATE INDEX api_keys_owner ON api_keys (owner_user_id) WHERE owner_user_id IS NOT NULL;
  `,
};
