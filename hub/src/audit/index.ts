export { createAuditLog, chainHash, chainPayload, type HubAuditLog, type VerifyResult } from './audit-log.js';
