import type { HubStore } from './types.js';
import { openSqliteStore } from './sqlite/index.js';

/** A PostgreSQL connection URL (SONDE_DATABASE_URL) rather than a SQLite file. */
export const isPostgresUrl = (location: string): boolean => /^postgres(ql)?:\/\//i.test(location);

/**
 * The one place that picks the store behind `HubStore` (the composition root
 * and tests open it here, never a backend directly): a `postgres://` URL opens
 * the PostgreSQL store (several hubs on one database), anything else is a
 * SQLite file, the embedded default; `:memory:` gives a private in-memory database.
 */
export async function openHubStore(location: string): Promise<HubStore> {
  // Loaded only when used: a SQLite hub never loads the PostgreSQL driver.
  if (isPostgresUrl(location)) return (await import('./postgres/index.js')).openPostgresStore(location);
  return openSqliteStore(location);
}
