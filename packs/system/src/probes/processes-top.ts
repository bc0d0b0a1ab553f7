import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { parsePs } from '../parsers/ps.js';
import { PS_FORMAT } from '../permissions.js';

export const processesTop = defineProbe({
  name: 'processes.top',
  description: 'Top processes by CPU or memory: pid, parent, user, CPU %, memory %, RSS, state, age in seconds and command name.',
  params: z.strictObject({ sortBy: z.enum(['cpu', 'memory']).default('cpu'), limit: z.number().int().min(1).max(100).default(20) }),
  result: z.object({
    totalProcesses: z.number().int(),
    processes: z.array(
      z.object({
        pid: z.number().int(),
        ppid: z.number().int(),
        user: z.string(),
        cpuPercent: z.number(),
        memPercent: z.number(),
        rssBytes: z.number().int(),
        vszBytes: z.number().int(),
        state: z.string(),
        elapsedSeconds: z.number().int(),
        command: z.string(),
      }),
    ),
  }),
  timeoutMs: 10_000,
  async handler(params, ctx) {
    const sort = params.sortBy === 'cpu' ? '--sort=-pcpu' : '--sort=-rss';
    const out = await ctx.exec('ps', ['-e', '-o', PS_FORMAT, sort, '--no-headers']);
    const rows = parsePs(out.stdout);
    return { totalProcesses: rows.length, processes: rows.slice(0, params.limit) };
  },
});
