import { Database } from './driver.js';
import { accessSync, chmodSync, closeSync, constants, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { HubError } from '../../errors.js';
import path from 'node:path';
import type { HubStore } from '../types.js';
import { sqliteAgentStore, sqliteRevokedCertStore } from './agents.js';
import { AUDIT_CHAIN_SOURCE, sqliteAuditStore, type AuditChainSource } from './audit.js';
import { backupDatabase } from './backup.js';
import { walkRanges } from './chain-ranges.js';
import { asyncStore } from './connection.js';
import { sqliteAuthorizedGroupStore, sqliteLoginStateStore } from './identity.js';
import { sqliteIntegrationStore } from './integrations.js';
import { sqliteApiKeyStore, sqliteEnrollmentTokenStore } from './keys.js';
import { migrate } from './migrations/index.js';
import { sqliteOAuthStore } from './oauth.js';
import type { Sync } from './sync.js';
import { sqliteSessionStore, sqliteUserStore } from './users.js';
import type { SettingsStore } from '../types.js';

export { LATEST_VERSION, MIGRATIONS } from './migrations/index.js';

/** The SQLite store as this folder (and its tests) sees it: the connection stays inside. */
export interface SqliteHubStore extends HubStore {
  readonly db: Database;
  readonly schemaVersion: number;
  /** How the verifier's worker threads read this database's chain (chain-ranges.ts). */
  readonly chainSource: AuditChainSource;
}

function sqliteSettingsStore(db: Database): Sync<SettingsStore> {
  const get = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
  const set = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  return {
    get: (key) => get.get(key)?.value,
    set: (key, value) => void set.run(key, value),
  };
}

/** Files SQLite keeps beside the database: they hold the same rows (the WAL holds recent commits in clear). */
const SIDE_FILES = ['-wal', '-shm', '-journal'];

/**
 * The database holds key hashes, sealed secrets and the audit chain: it is
 * created 0600 before SQLite opens it, whatever the umask, and a file an
 * older hub left wider is narrowed. SQLite gives the WAL and shared-memory
 * files it creates the database file's mode, so they follow; ones already
 * there are narrowed too.
 */
function ownerOnly(file: string): void {
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  for (const candidate of [file, ...SIDE_FILES.map((suffix) => file + suffix)]) {
    if (!existsSync(candidate)) continue;
    if ((statSync(candidate).mode & 0o077) !== 0) chmodSync(candidate, 0o600);
  }
}

/**
 * Opens (creating if needed) the hub database: WAL so the headless CLI can
 * write while the server runs, foreign keys on, a busy timeout so the two wait
 * for each other instead of failing, and every pending migration applied.
 */
export function openSqliteStore(file: string): SqliteHubStore {
  if (file !== ':memory:') {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    ownerOnly(file);
  }
  let db: Database;
  try {
    db = new Database(file);
    db.pragma('journal_mode = WAL');
  } catch (error) {
    throw readOnlyExplained(error, file);
  }
  try {
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // NORMAL in WAL mode: a commit survives a process crash; only an OS crash can lose the last commits.
    db.pragma('synchronous = NORMAL');
    const { to } = migrate(db);
    const audit = sqliteAuditStore(db);
    const source = audit[AUDIT_CHAIN_SOURCE];
    const store = asyncStore({
      db,
      sync: {
        agents: sqliteAgentStore(db),
        apiKeys: sqliteApiKeyStore(db),
        enrollmentTokens: sqliteEnrollmentTokenStore(db),
        users: sqliteUserStore(db),
        sessions: sqliteSessionStore(db),
        audit,
        settings: sqliteSettingsStore(db),
        revokedCerts: sqliteRevokedCertStore(db),
        integrations: sqliteIntegrationStore(db),
        authorizedGroups: sqliteAuthorizedGroupStore(db),
        loginStates: sqliteLoginStateStore(db),
        oauth: sqliteOAuthStore(db),
      },
      auditExtra: {
        checkRanges: (key, from, to, prevHash, tuning, onWalked, signal) =>
          walkRanges(source, key, from, to, prevHash, tuning, onWalked, signal),
      },
      backup: (destination) => backupDatabase(db, destination, () => to),
    });
    return Object.defineProperties(store as SqliteHubStore, {
      db: { value: db, enumerable: false },
      schemaVersion: { value: to, enumerable: false },
      chainSource: { value: source, enumerable: false },
    });
  } catch (error) {
    db.close();
    throw readOnlyExplained(error, file);
  }
}

/**
 * SQLite says only "unable to open database file" or "attempt to write a readonly database" when the file system is
 * read-only: name the cause, so an operator sees what to fix.
 */
function readOnlyExplained(error: unknown, file: string): unknown {
  if (file === ':memory:') return error;
  try {
    accessSync(path.dirname(path.resolve(file)), constants.W_OK);
    return error;
  } catch (access) {
    if ((access as NodeJS.ErrnoException).code !== 'EROFS') return error;
    return new HubError(
      'SONDE_ERR_STORAGE_READONLY',
      `${file} is on a read-only file system (EROFS): the hub cannot open its database for writing; nothing was changed`,
    );
  }
}
