import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { parseMeminfo, summariseMemory } from '../parsers/meminfo.js';
import { readProcFile } from '../proc.js';

const bytes = z.number().int().nonnegative();

export const memoryUsage = defineProbe({
  name: 'memory.usage',
  description: 'RAM and swap from /proc/meminfo: total, available (what new work can use), used % and swap used %.',
  params: z.strictObject({}),
  result: z.object({
    totalBytes: bytes,
    availableBytes: bytes,
    freeBytes: bytes,
    buffersBytes: bytes,
    cachedBytes: bytes,
    usedBytes: z.number().int(),
    usedPercent: z.number(),
    swapTotalBytes: bytes,
    swapFreeBytes: bytes,
    swapUsedPercent: z.number(),
  }),
  timeoutMs: 5_000,
  async handler(_params, ctx) {
    return summariseMemory(parseMeminfo(await readProcFile(ctx, '/proc/meminfo')));
  },
});
