import { isPostgresUrl } from './open.js';
import { sqliteBackdoor } from './sqlite/backdoor.js';

/**
 * Out-of-band access to a hub database, for tests only: what someone with the
 * database itself could do behind the hub's back (rewrite an audit row, read
 * every stored value). The hub never uses it; each store backend provides one.
 */
export interface StoreBackdoor {
  /** Overwrites stored columns of one audit row (no chain update). Columns by their stored names, e.g. `status`, `detail`, `hash`. */
  editAuditRow(seq: number, columns: Record<string, string | number | null>): Promise<void>;
  /** Deletes the audit rows `fromSeq..toSeq` (default just `fromSeq`). */
  deleteAuditRows(fromSeq: number, toSeq?: number): Promise<void>;
  /** Overwrites an existing setting. */
  setSetting(key: string, value: string): Promise<void>;
  /** Every stored row of every table as one text, to check a secret is stored nowhere in the clear. */
  dumpText(): Promise<string>;
  close(): Promise<void>;
}

/** Opens the backdoor on the database at `location` (what `openHubStore` takes). */
export async function openStoreBackdoor(location: string): Promise<StoreBackdoor> {
  if (isPostgresUrl(location)) return (await import('./postgres/backdoor.js')).postgresBackdoor(location);
  return sqliteBackdoor(location);
}

/** A throw-away PostgreSQL database (`sonde_test_<random>`) on the server of `adminUrl`, and how to drop it. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Whether a PostgreSQL server answers at `adminUrl` (for a test precondition), with the reason when not. */
export async function postgresReachable(adminUrl: string): Promise<{ ok: boolean; reason: string }> {
  return (await import('./postgres/test-databases.js')).postgresReachable(adminUrl);
}

export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  return (await import('./postgres/test-databases.js')).createTestDatabase(adminUrl);
}
