export { AgentErrors, AgentError, ExitCodes, type AgentErrorCode } from './errors.js';
export { AgentConfigSchema, type AgentConfig } from './config/schema.js';
export { AuditRing, verifyAuditChain, type AuditEntry } from './audit/ring.js';
export { capResult, TRUNCATION_MARKER } from './runtime/cap.js';
export { Backoff, retryAfterMs } from './runtime/backoff.js';
export { HANDSHAKE_TIMEOUT_MS, REGISTER_TIMEOUT_MS } from './runtime/connection.js';
export { buildProgram, runCli } from './cli/program.js';
