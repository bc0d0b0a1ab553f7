import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { isPseudoFilesystem, parseDfInodes } from '../parsers/df.js';

export const diskInodes = defineProbe({
  name: 'disk.inodes',
  description: 'Inode usage per mounted filesystem (a disk can be "full" with free space left), fullest first.',
  params: z.strictObject({ includePseudo: z.boolean().default(false) }),
  result: z.object({
    filesystems: z.array(
      z.object({
        filesystem: z.string(),
        mountpoint: z.string(),
        inodes: z.number().int().nonnegative(),
        used: z.number().int().nonnegative(),
        free: z.number().int().nonnegative(),
        usedPercent: z.number().nullable(),
      }),
    ),
  }),
  timeoutMs: 15_000,
  async handler(params, ctx) {
    const out = await ctx.exec('df', ['-P', '-i'], { timeoutMs: 10_000 });
    const rows = parseDfInodes(out.stdout).filter((row) => params.includePseudo || !isPseudoFilesystem(row.filesystem, row.inodes));
    rows.sort((a, b) => (b.usedPercent ?? -1) - (a.usedPercent ?? -1));
    return { filesystems: rows };
  },
});
