import type { Transaction } from 'better-sqlite3';
import { Database } from './driver.js';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { HubStore, SettingsStore } from '../types.js';
import { sqliteAgentStore, sqliteRevokedCertStore } from './agents.js';
import { sqliteAuditStore } from './audit.js';
import { sqliteIntegrationStore } from './integrations.js';
import { sqliteApiKeyStore, sqliteEnrollmentTokenStore } from './keys.js';
import { migrate } from './migrations/index.js';
import { sqliteSessionStore, sqliteUserStore } from './users.js';

export { GENESIS_HASH } from './audit.js';
export { LATEST_VERSION, MIGRATIONS } from './migrations/index.js';

export interface SqliteHubStore extends HubStore {
  readonly db: Database;
  readonly schemaVersion: number;
}

function sqliteSettingsStore(db: Database): SettingsStore {
  const get = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
  const set = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  return {
    get: (key) => get.get(key)?.value,
    set: (key, value) => void set.run(key, value),
  };
}

/**
 * Opens (creating if needed) the hub database: WAL so the headless CLI can
 * write while the server runs, foreign keys on, a busy timeout so the two wait
 * for each other instead of failing, and every pending migration applied.
 */
export function openSqliteStore(file: string): SqliteHubStore {
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  const transactions = new WeakMap<() => unknown, Transaction<() => unknown>>();
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // NORMAL in WAL mode: a commit survives a process crash; only an OS crash can lose the last commits.
    db.pragma('synchronous = NORMAL');
    const { to } = migrate(db);
    return {
      db,
      schemaVersion: to,
      agents: sqliteAgentStore(db),
      apiKeys: sqliteApiKeyStore(db),
      enrollmentTokens: sqliteEnrollmentTokenStore(db),
      users: sqliteUserStore(db),
      sessions: sqliteSessionStore(db),
      audit: sqliteAuditStore(db),
      settings: sqliteSettingsStore(db),
      revokedCerts: sqliteRevokedCertStore(db),
      integrations: sqliteIntegrationStore(db),
      transaction: <T>(fn: () => T): T => {
        // Wrapping costs more than a small write: a caller that passes the same function each time (the audit log) wraps it once.
        let wrapped = transactions.get(fn) as Transaction<() => T> | undefined;
        if (!wrapped) transactions.set(fn, (wrapped = db.transaction(fn)));
        return wrapped.immediate();
      },
      close: () => {
        if (db.open) db.close();
      },
    };
  } catch (error) {
    db.close();
    throw error;
  }
}
