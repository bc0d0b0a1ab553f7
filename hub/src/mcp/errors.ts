/**
 * Errors a tool reports to the MCP client. Each has a stable code and a
 * message that says what to do next; they become `isError` results, never
 * stack traces.
 */
export const McpErrorCodes = {
  SONDE_ERR_UNAUTHORIZED: 'Missing or invalid API key.',
  SONDE_ERR_CLIENT_DENIED: 'This API key may not be used from this MCP client.',
  SONDE_ERR_FORBIDDEN_ORIGIN: 'The request named a host or came from a page origin this hub does not serve (DNS-rebinding protection).',
  SONDE_ERR_POLICY_DENIED: 'The API key policy does not allow this agent or probe.',
  SONDE_ERR_UNKNOWN_AGENT: 'No such agent.',
  SONDE_ERR_UNKNOWN_TOOL: 'No such tool.',
  SONDE_ERR_UNKNOWN_PACK: 'No such pack.',
  SONDE_ERR_UNKNOWN_INSTANCE: 'No such integration instance for this tool.',
  SONDE_ERR_PROBE_UNAVAILABLE: 'The probe is not served by an active pack on that agent.',
  SONDE_ERR_AGENT_OFFLINE: 'The agent is offline.',
  SONDE_ERR_TIMEOUT: 'The call did not finish in time.',
  SONDE_ERR_INVALID_ARGUMENTS: 'The tool arguments are invalid.',
  SONDE_ERR_PROBE_FAILED: 'The probe failed on the agent.',
  SONDE_ERR_AUDIT_FAILED: 'The call could not be recorded in the audit log, so its result is withheld.',
  SONDE_ERR_INTERNAL: 'Internal error.',
} as const;

export type McpErrorCode = keyof typeof McpErrorCodes;

/** Audit status a tool error maps to. */
export type FailureStatus = 'error' | 'denied' | 'timeout' | 'offline';

export class ToolError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: FailureStatus = 'error',
  ) {
    super(message);
    this.name = 'ToolError';
  }
}
