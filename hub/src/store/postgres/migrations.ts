import { GENESIS_HASH } from '../../audit/chain-text.js';
import { databaseTooNew, migrationsFor, type Migration, type SqlDialect } from '../rows/index.js';
import { splitStoredPacks } from '../migrate-manifests.js';
import type { Queryable } from './db.js';

/** PostgreSQL's spelling of the shared schema (hub/src/store/rows/schema.ts): `ord` keeps insertion order, as SQLite's rowid. */
const POSTGRES: SqlDialect = {
  tableOptions: '',
  bigint: 'BIGINT',
  real: 'DOUBLE PRECISION',
  boolean: 'BOOLEAN',
  insertionOrder: 'ord BIGSERIAL NOT NULL,',
};

/** What only PostgreSQL has, run after the shared tables of the same version. */
const POSTGRES_ONLY: Record<number, string> = {
  1: `
    -- The audit head every hub appends after, locked (SELECT ... FOR UPDATE) by each group commit,
    -- so hubs take turns and each entry gets the next seq once.
    CREATE TABLE audit_head (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      seq BIGINT NOT NULL,
      hash TEXT NOT NULL
    );
    INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '${GENESIS_HASH}');

    -- Every hub's fleet view follows agent changes made by any hub (LISTEN sonde_agents).
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
};

/**
 * The PostgreSQL schema: the shared tables, numbered like SQLite's (the same version is the same tables), plus the
 * statements above. Text stays text: times are ISO strings as the hub wrote them (never timestamptz, which would
 * round and re-format them), and JSON columns (params, agents, manifests) are text, never jsonb, which would reorder
 * keys and change what the audit chain hashed.
 */
export const MIGRATIONS: readonly Migration[] = migrationsFor(POSTGRES, POSTGRES_ONLY);

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Data steps: rows a version's SQL alone cannot rewrite, run after it in the same transaction. */
const DATA_STEPS: Readonly<Record<number, (db: Queryable) => Promise<void>>> = {
  // Migration 5: the manifests in each agents row move to pack_manifests (rows/schema.ts).
  async 5(db) {
    const { rows } = await db.query<{ id: string; packs: string }>('SELECT id, packs FROM agents');
    for (const row of rows) {
      const split = splitStoredPacks(row.packs);
      if (!split) continue;
      for (const { key, text } of split.manifests)
        await db.query('INSERT INTO pack_manifests (sha256, manifest) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING', [key, text]);
      await db.query('UPDATE agents SET packs = $1 WHERE id = $2', [split.json, row.id]);
    }
  },
};

/** Applies every pending migration in one transaction. The caller holds the hub's advisory lock (index.ts). */
export async function migrate(db: Queryable): Promise<{ from: number; to: number }> {
  await db.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  await db.query('BEGIN');
  try {
    const { rows } = await db.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_version');
    const from = rows[0]?.v ?? 0;
    if (from > LATEST_VERSION) {
      throw databaseTooNew(from, LATEST_VERSION);
    }
    for (const m of MIGRATIONS) {
      if (m.version <= from) continue;
      await db.query(m.sql);
      await DATA_STEPS[m.version]?.(db);
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
