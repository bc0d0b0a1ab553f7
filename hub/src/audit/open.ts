import type { HubCrypto } from '../crypto/index.js';
import type { HubStore } from '../store/types.js';
import { anchorFileFor } from './anchor.js';
import { createAuditLog, type HubAuditLog } from './audit-log.js';

export type { HubAuditLog } from './audit-log.js';

/** The hub's audit log on `store`, anchored in a file beside the database at `dbPath` (anchor.ts). */
export function openAuditLogFor(store: HubStore, crypto: HubCrypto, dbPath: string): HubAuditLog {
  return createAuditLog(store, crypto.auditKey, crypto.sealer, {}, anchorFileFor(dbPath));
}
