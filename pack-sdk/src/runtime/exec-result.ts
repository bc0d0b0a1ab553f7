import { SondeError } from '../errors.js';
import type { ExecOptions, ExecResult } from './context.js';

/**
 * Shared by every ProbeContext implementation so a probe sees the same
 * behaviour under the test harness as on a real host: an exit code outside
 * `okExitCodes` becomes SONDE_ERR_COMMAND_FAILED with the start of stderr.
 */
export function interpretExit(binary: string, result: ExecResult, options: ExecOptions = {}): ExecResult {
  const ok = options.okExitCodes ?? [0];
  if (ok.includes(result.exitCode)) return result;
  const detail = (result.stderr || result.stdout).trim().slice(0, 500);
  throw new SondeError('SONDE_ERR_COMMAND_FAILED', `${binary} exited with ${result.exitCode}${detail ? `: ${detail}` : ''}`, {
    binary,
    exitCode: result.exitCode,
    stderr: result.stderr.slice(0, 2000),
  });
}

/** Cuts text to a byte budget on a character boundary; `fromEnd` keeps the tail (logs). */
export function capText(text: string, maxBytes: number, fromEnd = false): { text: string; truncated: boolean } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return { text, truncated: false };
  const slice = fromEnd ? bytes.subarray(bytes.length - maxBytes) : bytes.subarray(0, maxBytes);
  // Decoding may leave a replacement character at a cut multi-byte sequence; drop it.
  const decoded = slice.toString('utf8').replace(fromEnd ? /^\uFFFD+/ : /\uFFFD+$/, '');
  return { text: decoded, truncated: true };
}
