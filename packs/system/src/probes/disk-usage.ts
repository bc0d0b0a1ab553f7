import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { isPseudoFilesystem, parseDfSpace } from '../parsers/df.js';

export const diskUsage = defineProbe({
  name: 'disk.usage',
  description:
    'Space per mounted filesystem (size, used, available bytes and used %), fullest first. Pseudo filesystems (tmpfs, overlay) are left out unless asked.',
  params: z.strictObject({ includePseudo: z.boolean().default(false) }),
  result: z.object({
    filesystems: z.array(
      z.object({
        filesystem: z.string(),
        mountpoint: z.string(),
        sizeBytes: z.number().int().nonnegative(),
        usedBytes: z.number().int().nonnegative(),
        availableBytes: z.number().int().nonnegative(),
        usedPercent: z.number().nullable(),
      }),
    ),
  }),
  timeoutMs: 15_000,
  async handler(params, ctx) {
    const out = await ctx.exec('df', ['-P', '-k'], { timeoutMs: 10_000 });
    const rows = parseDfSpace(out.stdout).filter((row) => params.includePseudo || !isPseudoFilesystem(row.filesystem, row.sizeBytes));
    rows.sort((a, b) => (b.usedPercent ?? -1) - (a.usedPercent ?? -1));
    return { filesystems: rows };
  },
});
