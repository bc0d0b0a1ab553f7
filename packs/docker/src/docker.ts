import type { ExecResult, ProbeContext } from '@sonde/pack-sdk';
import { dockerFailure } from './parsers/errors.js';

/** Runs a declared docker CLI call; a non-zero exit becomes an error that says what to do. */
export async function runDocker(ctx: ProbeContext, args: string[], maxOutputBytes?: number): Promise<ExecResult> {
  const out = await ctx.exec('docker', args, { okExitCodes: [0, 1], maxOutputBytes });
  if (out.exitCode !== 0) throw dockerFailure(out.stderr, out.exitCode);
  return out;
}
