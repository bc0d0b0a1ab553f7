import { HubError } from '../../errors.js';

/**
 * The hub's tables, written once for every backend: each backend renders them with its `SqlDialect` and runs them
 * in its own migration runner (`sqlite/migrations/index.ts`, `postgres/migrations.ts`), which may add statements
 * of its own to a version (PostgreSQL: the audit head row and the agents' NOTIFY trigger). The same version is the
 * same tables on every backend. Text stays text: times are ISO strings as the hub wrote them, and JSON columns
 * (params, agents, manifests) are text, which keeps what the audit chain hashed byte for byte.
 * Numbered, append-only: never change what a released version creates, add the next number.
 */

/** How a backend spells what differs between SQL dialects. */
export interface SqlDialect {
  /** After each table's closing parenthesis (SQLite: ` STRICT`). */
  tableOptions: string;
  /** A 64-bit integer (SQLite's INTEGER is one, and `INTEGER PRIMARY KEY` is the rowid). */
  bigint: string;
  /** A double. */
  real: string;
  /** A boolean (SQLite has none: INTEGER 0/1). */
  boolean: string;
  /**
   * Columns that keep insertion order where the backend has none built in, each with its trailing comma
   * (SQLite: none, it lists by rowid; PostgreSQL: `ord BIGSERIAL NOT NULL,`).
   */
  insertionOrder: string;
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

interface SchemaVersion {
  version: number;
  name: string;
  sql(d: SqlDialect): string;
}

/** The first schema: every table the hub core needs. */
const init: SchemaVersion = {
  version: 1,
  name: 'init',
  sql: (d) => `
    CREATE TABLE settings (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    )${d.tableOptions};

    CREATE TABLE agents (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      enrolled_at TEXT NOT NULL,
      cert_pem TEXT,
      cert_serial TEXT UNIQUE,
      cert_not_after TEXT,
      public_key_pem TEXT NOT NULL,
      removed_at TEXT,
      attestation_baseline TEXT,
      pending_attestation TEXT,
      degraded_reasons TEXT NOT NULL DEFAULT '[]',
      last_seen_at TEXT,
      agent_version TEXT,
      packs TEXT NOT NULL DEFAULT '[]'
    )${d.tableOptions};

    CREATE TABLE revoked_certs (
      serial TEXT PRIMARY KEY,
      agent_id TEXT NOT NULL REFERENCES agents(id),
      revoked_at TEXT NOT NULL,
      reason TEXT NOT NULL
    )${d.tableOptions};

    CREATE TABLE api_keys (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      type TEXT NOT NULL CHECK (type IN ('user', 'agent')),
      role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
      hash TEXT NOT NULL UNIQUE,
      prefix TEXT NOT NULL,
      policy TEXT NOT NULL,
      agent_id TEXT REFERENCES agents(id),
      created_at TEXT NOT NULL,
      last_used_at TEXT,
      revoked_at TEXT
    )${d.tableOptions};
    CREATE INDEX api_keys_agent ON api_keys(agent_id);

    CREATE TABLE enrollment_tokens (
      id TEXT PRIMARY KEY,
      hash TEXT NOT NULL UNIQUE,
      prefix TEXT NOT NULL,
      bound_name TEXT,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      used_at TEXT,
      used_by TEXT
    )${d.tableOptions};

    CREATE TABLE users (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      email TEXT,
      role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
      enabled ${d.boolean} NOT NULL,
      created_at TEXT NOT NULL
    )${d.tableOptions};

    CREATE TABLE sessions (
      hash TEXT PRIMARY KEY,
      user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL
    )${d.tableOptions};

    CREATE TABLE audit_log (
      seq ${d.bigint} PRIMARY KEY,
      at TEXT NOT NULL,
      action TEXT NOT NULL,
      actor_kind TEXT NOT NULL,
      actor_id TEXT,
      actor_name TEXT,
      client_id TEXT,
      tool TEXT,
      agents TEXT NOT NULL,
      probe TEXT,
      params TEXT,
      status TEXT NOT NULL,
      result_bytes ${d.bigint},
      duration_ms ${d.real},
      detail TEXT,
      prev_hash TEXT NOT NULL,
      hash TEXT NOT NULL
    )${d.tableOptions};
    CREATE INDEX audit_at ON audit_log(at);
    CREATE INDEX audit_tool ON audit_log(tool);
    CREATE INDEX audit_actor ON audit_log(actor_id);
  `,
};

/**
 * Integration packs loaded by the hub: every installed version (verified facts only), which one the operator
 * approved per pack, and the instances (endpoint + sealed credentials) the packs run against.
 */
const integrations: SchemaVersion = {
  version: 2,
  name: 'integrations',
  sql: (d) => `
    CREATE TABLE integration_pack_versions (
      name TEXT NOT NULL,
      version TEXT NOT NULL,
      package_name TEXT NOT NULL,
      integrity TEXT NOT NULL,
      key_id TEXT NOT NULL,
      published_at TEXT NOT NULL,
      manifest TEXT NOT NULL,
      permissions_digest TEXT NOT NULL,
      dir TEXT NOT NULL,
      installed_at TEXT NOT NULL,
      installed_by TEXT,
      state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'superseded')),
      PRIMARY KEY (name, version)
    )${d.tableOptions};

    CREATE TABLE integration_packs (
      name TEXT PRIMARY KEY,
      package_name TEXT NOT NULL,
      approved_version TEXT,
      approved_digest TEXT,
      approved_at TEXT,
      approved_by TEXT
    )${d.tableOptions};

    CREATE TABLE integration_instances (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      pack TEXT NOT NULL,
      endpoint TEXT NOT NULL,
      credentials TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('untested', 'connected', 'error')) DEFAULT 'untested',
      last_error TEXT,
      last_checked_at TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )${d.tableOptions};
    CREATE INDEX integration_instances_pack ON integration_instances(pack);
  `,
};

/**
 * Single sign-on (issue 20): users keyed on the provider's stable subject (filled in at first sign-in; e-mail only
 * finds a record an admin added before it), where a user came from (an admin, or an authorized group), the groups the
 * provider reported at the last sign-in (so a group change applies to live sessions), authorized groups, and started
 * sign-ins (state, nonce and PKCE verifier, 10 minutes, single use; only the state's hash is a key), and the owner of
 * a user's self-service API keys (removed with the user).
 */
const identity: SchemaVersion = {
  version: 3,
  name: 'identity',
  sql: (d) => `
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
    )${d.tableOptions};

    CREATE TABLE login_states (
      state_hash TEXT PRIMARY KEY,
      binding_hash TEXT NOT NULL,
      code_verifier TEXT NOT NULL,
      nonce TEXT NOT NULL,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      used_at TEXT
    )${d.tableOptions};
    CREATE INDEX login_states_expiry ON login_states (expires_at);

    -- "My keys": a user's own MCP keys go with the user.
    ALTER TABLE api_keys ADD COLUMN owner_user_id TEXT REFERENCES users (id) ON DELETE CASCADE;
    CREATE INDEX api_keys_owner ON api_keys (owner_user_id) WHERE owner_user_id IS NOT NULL;
  `,
};

/**
 * The hub as an OAuth 2.1 authorization server for MCP clients (issue 24): every oidc-provider record (tokens,
 * codes, grants, registered clients, its own sessions and interactions) in one generic table. The key is the SHA-256
 * of the model's id, so no token or code is stored in the clear; grant, user and client are copied out of the payload
 * so a revocation is one DELETE. Listed in insertion order (`SqlDialect.insertionOrder`).
 */
const oauth: SchemaVersion = {
  version: 4,
  name: 'oauth',
  sql: (d) => `
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
      ${d.insertionOrder}
      PRIMARY KEY (kind, id)
    )${d.tableOptions};
    CREATE INDEX oauth_records_grant ON oauth_records (grant_id) WHERE grant_id IS NOT NULL;
    CREATE INDEX oauth_records_user ON oauth_records (user_id) WHERE user_id IS NOT NULL;
    CREATE INDEX oauth_records_client ON oauth_records (client_id) WHERE client_id IS NOT NULL;
    CREATE INDEX oauth_records_uid ON oauth_records (kind, uid) WHERE uid IS NOT NULL;
    CREATE INDEX oauth_records_expiry ON oauth_records (expires_at) WHERE expires_at IS NOT NULL;
  `,
};

/**
 * Pack manifests out of the agents row (issue 26): one `pack_manifests` row per distinct manifest, keyed by the hex
 * SHA-256 of its JSON, referenced from each pack's status by `manifestSha256`. An agents row held every manifest of
 * its packs (~20-40 KB), so each last-seen, state or attestation write rewrote all of it; now a row is a few KB. The
 * rows already there are rewritten by each backend's data step for this version (`../migrate-manifests.ts`), in the
 * same transaction.
 */
const packManifests: SchemaVersion = {
  version: 5,
  name: 'pack_manifests',
  sql: (d) => `
    CREATE TABLE pack_manifests (
      sha256 TEXT PRIMARY KEY,
      manifest TEXT NOT NULL
    )${d.tableOptions};
  `,
};

/**
 * Several hubs (issue 23): each installed integration pack version's verified files, so a hub that did not install it
 * (its own packs folder, another host) writes them into its own folder and verifies them again at load. `archive` is
 * base64 of gzip'd JSON `{ files: { path: base64 } }` (text, the same on both backends).
 */
const integrationFiles: SchemaVersion = {
  version: 6,
  name: 'integration-files',
  sql: (d) => `
    CREATE TABLE integration_pack_files (
      name TEXT NOT NULL,
      version TEXT NOT NULL,
      archive TEXT NOT NULL,
      PRIMARY KEY (name, version)
    )${d.tableOptions};
  `,
};

/**
 * Several hubs (issue 23): the trust store integration packs verify against, one document for the whole deployment
 * (was a file per hub, SONDE_TRUST_FILE, which is now read as an import path: integrations/trust.ts). `revision`
 * grows with every replacement. `integration_trust_sources` remembers, per trust file (host and path), the SHA-256 of
 * what was last read from it, so only an edited file is imported again and a hub restarting with an unchanged copy
 * never undoes a change made elsewhere.
 */
const integrationTrust: SchemaVersion = {
  version: 7,
  name: 'integration-trust',
  sql: (d) => `
    CREATE TABLE integration_trust (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      document TEXT NOT NULL,
      revision ${d.bigint} NOT NULL,
      updated_at TEXT NOT NULL,
      updated_by TEXT NOT NULL
    )${d.tableOptions};

    CREATE TABLE integration_trust_sources (
      source TEXT PRIMARY KEY,
      sha256 TEXT NOT NULL,
      read_at TEXT NOT NULL
    )${d.tableOptions};
  `,
};

const SCHEMA: readonly SchemaVersion[] = [init, integrations, identity, oauth, packManifests, integrationFiles, integrationTrust];

/** Every version rendered for one backend, `extra[version]` (that backend's own statements) run after it. */
export function migrationsFor(d: SqlDialect, extra: Readonly<Record<number, string>> = {}): readonly Migration[] {
  return SCHEMA.map((m) => ({ version: m.version, name: m.name, sql: m.sql(d) + (extra[m.version] ?? '') }));
}

/** What a migration runner throws when the database is newer than this hub. */
export const databaseTooNew = (from: number, latest: number): HubError =>
  new HubError(
    'SONDE_ERR_DB_TOO_NEW',
    `The database is at schema version ${from}; this sonde-hub knows up to ${latest}. Upgrade sonde-hub.`,
  );
