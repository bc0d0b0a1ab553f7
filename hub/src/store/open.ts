import type { HubStore } from './types.js';
import { openSqliteStore } from './sqlite/index.js';

/**
 * The one place that picks the store behind `HubStore` (the composition root
 * and tests open it here, never a backend directly). SQLite on a file is the
 * embedded default; `:memory:` gives a private in-memory database.
 */
export function openHubStore(location: string): Promise<HubStore> {
  return Promise.resolve(openSqliteStore(location));
}
