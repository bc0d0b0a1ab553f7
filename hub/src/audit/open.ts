import type { HubCrypto } from '../crypto/index.js';
import type { HubStore } from '../store/types.js';
import { createAuditLog, type HubAuditLog } from './audit-log.js';

export type { HubAuditLog } from './audit-log.js';

export function openAuditLogFor(store: HubStore, crypto: HubCrypto): HubAuditLog {
  return createAuditLog(store, crypto.auditKey, crypto.sealer);
}
