/**
 * Every failure a probe or the wire protocol can report carries one stable code.
 * Codes are part of the public contract: hosts map them to user messages and the
 * hub reports them to MCP clients, so never rename one.
 */
export const SondeErrorCodes = {
  SONDE_ERR_INVALID_PARAMS: 'The probe parameters do not match the probe schema.',
  SONDE_ERR_INVALID_RESULT: 'The probe returned data that does not match its result schema.',
  SONDE_ERR_PERMISSION_DENIED: 'The pack did not declare permission for this command, file or endpoint.',
  SONDE_ERR_TIMEOUT: 'The probe did not finish within its time limit.',
  SONDE_ERR_OUTPUT_LIMIT: 'The output exceeded its size limit.',
  SONDE_ERR_COMMAND_FAILED: 'A command the probe ran failed.',
  SONDE_ERR_COMMAND_NOT_FOUND: 'A command the probe needs is not installed.',
  SONDE_ERR_FILE_NOT_FOUND: 'A file the probe reads does not exist.',
  SONDE_ERR_HTTP_FAILED: 'An HTTP request the probe made failed.',
  SONDE_ERR_UNKNOWN_PROBE: 'No such probe.',
  SONDE_ERR_CAPABILITY_REFUSED: 'The probe declares a capability other than observe and is refused.',
  SONDE_ERR_INVALID_MANIFEST: 'The pack manifest is invalid.',
  SONDE_ERR_PROBE_FAILED: 'The probe failed.',
  SONDE_ERR_BAD_FRAME: 'The message is not a valid protocol envelope.',
  SONDE_ERR_UNSIGNED: 'The message carries no signature.',
  SONDE_ERR_BAD_SIGNATURE: 'The message signature does not verify.',
  SONDE_ERR_STALE: 'The message timestamp is outside the replay window.',
  SONDE_ERR_REPLAYED: 'The message id was already seen.',
  SONDE_ERR_PROTOCOL_VERSION: 'The peer speaks another protocol version.',
  SONDE_ERR_AGENT_MISMATCH: 'The message claims an agent id other than the one bound to this connection.',
  SONDE_ERR_INVALID_SCRUB_PATTERN: 'A custom scrubber pattern in the agent configuration is invalid or unsafe.',
} as const;

export type SondeErrorCode = keyof typeof SondeErrorCodes;

/**
 * Marks a SondeError from any copy of this module: a program that bundles the SDK (the agent's dist/sonde/) and a
 * pack it loads in-process with its own copy each have a SondeError class, and `instanceof` sees only its own.
 */
const BRAND = Symbol.for('sonde.SondeError');

export class SondeError extends Error {
  readonly code: SondeErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: SondeErrorCode, message?: string, details?: Record<string, unknown>) {
    super(message ?? SondeErrorCodes[code]);
    this.name = 'SondeError';
    this.code = code;
    this.details = details;
    Object.defineProperty(this, BRAND, { value: true });
  }

  toJSON(): { code: SondeErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

export function isSondeError(value: unknown): value is SondeError {
  return value instanceof SondeError || (value instanceof Error && (value as { [BRAND]?: unknown })[BRAND] === true);
}
