import { isPostgresUrl } from './open.js';
import type { StoreBackdoor } from './backdoor.js';
import { sqliteBackdoor } from './sqlite/backdoor.js';

export type { StoreBackdoor } from './backdoor.js';

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
