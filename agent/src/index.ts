export { AgentErrors, AgentError, ExitCodes, type AgentErrorCode } from './errors.js';
export { AgentConfigSchema, type AgentConfig } from './config/schema.js';
export { AuditRing, verifyAuditChain, type AuditEntry } from './audit/ring.js';
export { capResult, TRUNCATION_MARKER } from './runtime/cap.js';
export { Backoff } from './runtime/backoff.js';
export { buildProgram, runCli } from './cli/program.js';
