import type { ExecResult, ProbeContext } from '@sonde/pack-sdk';
import { systemdFailure } from './parsers/errors.js';

/** Runs a declared systemctl/journalctl call; failures become errors that say what is wrong. */
export async function run(
  ctx: ProbeContext,
  binary: 'systemctl' | 'journalctl',
  args: string[],
  maxOutputBytes?: number,
): Promise<ExecResult> {
  // Exit codes above 1 exist (systemctl: 3 = inactive unit for `status`), but none of our calls uses them for data.
  const out = await ctx.exec(binary, args, { okExitCodes: [0, 1], maxOutputBytes });
  if (out.exitCode !== 0) throw systemdFailure(binary, out.stderr, out.exitCode);
  return out;
}
