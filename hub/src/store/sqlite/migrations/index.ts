import type Database from 'better-sqlite3';
import { HubError } from '../../../errors.js';
import { migration001 } from './001_init.js';
import { migration002 } from './002_integrations.js';
import { migration003 } from './003_identity.js';
import { migration004 } from './004_oauth.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Numbered, append-only: never edit a released migration, add the next number. */
export const MIGRATIONS: readonly Migration[] = [migration001, migration002, migration003, migration004];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

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
      throw new HubError(
        'SONDE_ERR_DB_TOO_NEW',
        `The database is at schema version ${from}; this sonde-hub knows up to ${LATEST_VERSION}. Upgrade sonde-hub.`,
      );
    }
    const insert = db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of MIGRATIONS) {
      if (m.version <= from) continue;
      db.exec(m.sql);
      insert.run(m.version, m.name, new Date().toISOString());
    }
    return { from, to: Math.max(from, LATEST_VERSION) };
  });
  return run.immediate();
}
