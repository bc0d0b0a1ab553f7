import type { ProbeContext } from '@sonde/pack-sdk';
import { CAT_ONLY_PROC_FILES, type PROC_FILES } from './permissions.js';

/**
 * procfs files report a size of 0, and a host that reads `size` bytes gets
 * nothing back. When that happens, read the same fixed path with `cat`
 * (declared with literal arguments only) so the probe still works.
 */
export async function readProcFile(ctx: ProbeContext, file: (typeof PROC_FILES)[number]): Promise<string> {
  if (!CAT_ONLY_PROC_FILES.includes(file)) {
    const read = await ctx.readFile(file, { maxBytes: 1024 * 1024 });
    if (read.content.length > 0) return read.content;
  }
  const out = await ctx.exec('cat', [file], { maxOutputBytes: 1024 * 1024 });
  return out.stdout;
}
