import { HubError } from '../../errors.js';
import type { Queryable } from './db.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The PostgreSQL schema, numbered like SQLite's (hub/src/store/sqlite/migrations/): the same version is the same
 * tables. Text stays text: times are ISO strings as the hub wrote them (never timestamptz, which would round and
 * re-format them), and JSON columns (params, agents, manifests) are text, never jsonb, which would reorder keys and
 * change what the audit chain hashed. Numbered, append-only: never edit a released migration, add the next number.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'init',
    sql: `
      CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
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
      );
      CREATE TABLE revoked_certs (
        serial TEXT PRIMARY KEY,
        agent_id TEXT NOT NULL REFERENCES agents(id),
        revoked_at TEXT NOT NULL,
        reason TEXT NOT NULL
      );
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
      );
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
      );
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        email TEXT,
        role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
        enabled BOOLEAN NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE sessions (
        hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
      );
      CREATE TABLE audit_log (
        seq BIGINT PRIMARY KEY,
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
        result_bytes BIGINT,
        duration_ms DOUBLE PRECISION,
        detail TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      CREATE INDEX audit_at ON audit_log(at);
      CREATE INDEX audit_tool ON audit_log(tool);
      CREATE INDEX audit_actor ON audit_log(actor_id);

      -- PostgreSQL only: the audit head every hub appends after, locked (SELECT ... FOR UPDATE) by each group commit,
      -- so hubs take turns and each entry gets the next seq once.
      CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq BIGINT NOT NULL,
        hash TEXT NOT NULL
      );
      INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '${'0'.repeat(64)}');

      -- PostgreSQL only: every hub's fleet view follows agent changes made by any hub (LISTEN sonde_agents).
      -- A last-seen time alone notifies nobody: heartbeats would flood the channel.
      CREATE FUNCTION sonde_agents_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('sonde_agents', COALESCE(NEW.id, OLD.id));
        RETURN NULL;
      END $$;
      CREATE TRIGGER agents_notify_insert AFTER INSERT OR DELETE ON agents FOR EACH ROW EXECUTE FUNCTION sonde_agents_notify();
      CREATE TRIGGER agents_notify_update AFTER UPDATE ON agents FOR EACH ROW
        WHEN ((OLD.name, OLD.cert_pem, OLD.cert_serial, OLD.cert_not_after, OLD.public_key_pem, OLD.removed_at,
               OLD.attestation_baseline, OLD.pending_attestation, OLD.degraded_reasons, OLD.agent_version, OLD.packs)
          IS DISTINCT FROM
              (NEW.name, NEW.cert_pem, NEW.cert_serial, NEW.cert_not_after, NEW.public_key_pem, NEW.removed_at,
               NEW.attestation_baseline, NEW.pending_attestation, NEW.degraded_reasons, NEW.agent_version, NEW.packs))
        EXECUTE FUNCTION sonde_agents_notify();
    `,
  },
  {
    version: 2,
    name: 'integrations',
    sql: `
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
      );
      CREATE TABLE integration_packs (
        name TEXT PRIMARY KEY,
        package_name TEXT NOT NULL,
        approved_version TEXT,
        approved_digest TEXT,
        approved_at TEXT,
        approved_by TEXT
      );
      CREATE TABLE integration_instances (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        pack TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        credentials TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'untested' CHECK (status IN ('untested', 'connected', 'error')),
        last_error TEXT,
        last_checked_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX integration_instances_pack ON integration_instances(pack);
    `,
  },
  {
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
      );
      CREATE TABLE login_states (
        state_hash TEXT PRIMARY KEY,
        binding_hash TEXT NOT NULL,
        code_verifier TEXT NOT NULL,
        nonce TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT
      );
      CREATE INDEX login_states_expiry ON login_states (expires_at);
      ALTER TABLE api_keys ADD COLUMN owner_user_id TEXT REFERENCES users (id) ON DELETE CASCADE;
      CREATE INDEX api_keys_owner ON api_keys (owner_user_id) WHERE owner_user_id IS NOT NULL;

    `,
  },
  {
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
        -- Insertion order (SQLite lists by rowid).
        ord BIGSERIAL NOT NULL,
        PRIMARY KEY (kind, id)
      );
      CREATE INDEX oauth_records_grant ON oauth_records (grant_id) WHERE grant_id IS NOT NULL;
      CREATE INDEX oauth_records_user ON oauth_records (user_id) WHERE user_id IS NOT NULL;
      CREATE INDEX oauth_records_client ON oauth_records (client_id) WHERE client_id IS NOT NULL;
      CREATE INDEX oauth_records_uid ON oauth_records (kind, uid) WHERE uid IS NOT NULL;
      CREATE INDEX oauth_records_expiry ON oauth_records (expires_at) WHERE expires_at IS NOT NULL;
    `,
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Applies every pending migration in one transaction. The caller holds the hub's advisory lock (index.ts). */
export async function migrate(db: Queryable): Promise<{ from: number; to: number }> {
  await db.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  await db.query('BEGIN');
  try {
    const { rows } = await db.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_version');
    const from = rows[0]?.v ?? 0;
    if (from > LATEST_VERSION) {
      throw new HubError(
        'SONDE_ERR_DB_TOO_NEW',
        `The database is at schema version ${from}; this sonde-hub knows up to ${LATEST_VERSION}. Upgrade sonde-hub.`,
      );
    }
    for (const m of MIGRATIONS) {
      if (m.version <= from) continue;
      await db.query(m.sql);
      await db.query('INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        new Date().toISOString(),
      ]);
    }
    await db.query('COMMIT');
    return { from, to: Math.max(from, LATEST_VERSION) };
  } catch (error) {
    await db.query('ROLLBACK');
    throw error;
  }
}
