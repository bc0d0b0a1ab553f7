import type Database from 'better-sqlite3';
import { splitStoredPacks } from '../../migrate-manifests.js';
import { databaseTooNew, migrationsFor, type Migration, type SqlDialect } from '../../rows/index.js';

export type { Migration } from '../../rows/index.js';

/** SQLite's spelling of the shared schema: STRICT tables, INTEGER for 64-bit and boolean, rowid keeps insertion order. */
const SQLITE: SqlDialect = { tableOptions: ' STRICT', bigint: 'INTEGER', real: 'REAL', boolean: 'INTEGER', insertionOrder: '' };

/** The shared schema (hub/src/store/rows/schema.ts), numbered, append-only. */
export const MIGRATIONS: readonly Migration[] = migrationsFor(SQLITE);

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Data steps: rows a version's SQL alone cannot rewrite, run after it in the same transaction. */
const DATA_STEPS: Readonly<Record<number, (db: Database.Database) => void>> = {
  // Migration 5: the manifests in each agents row move to pack_manifests (rows/schema.ts).
  5(db) {
    const insert = db.prepare('INSERT OR IGNORE INTO pack_manifests (sha256, manifest) VALUES (?, ?)');
    const update = db.prepare('UPDATE agents SET packs = ? WHERE id = ?');
    for (const row of db.prepare<[], { id: string; packs: string }>('SELECT id, packs FROM agents').all()) {
      const split = splitStoredPacks(row.packs);
      if (!split) continue;
      for (const { key, text } of split.manifests) insert.run(key, text);
      update.run(split.json, row.id);
    }
  },
};

/**
 * Applies every pending migration in one IMMEDIATE transaction, so a second
 * process starting at the same moment waits and then sees the new version.
 */
export function migrate(db: Database.Database): { from: number; to: number } {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT');
  const run = db.transaction(() => {
    const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
    const from = row.v ?? 0;
    if (from > LATEST_VERSION) {
      throw databaseTooNew(from, LATEST_VERSION);
    }
    const insert = db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of MIGRATIONS) {
      if (m.version <= from) continue;
      db.exec(m.sql);
      DATA_STEPS[m.version]?.(db);
      insert.run(m.version, m.name, new Date().toISOString());
    }
    return { from, to: Math.max(from, LATEST_VERSION) };
  });
  return run.immediate();
}
