export {
  createAuditLog,
  VerifyCancelledError,
  type HubAuditLog,
  type VerifyOptions,
  type VerifyProgress,
  type VerifyResult,
} from './audit-log.js';
export { chainHash, chainPayload, chainText, GENESIS_HASH } from './chain-text.js';
export { anchorFileFor, AuditAnchor, type AnchorState } from './anchor.js';
