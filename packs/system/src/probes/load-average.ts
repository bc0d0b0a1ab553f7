import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { countProcessors, parseLoadavg } from '../parsers/loadavg.js';
import { readProcFile } from '../proc.js';

export const loadAverage = defineProbe({
  name: 'load.average',
  description: 'Load average over 1, 5 and 15 minutes with the CPU count and load per CPU (above 1 means queued work).',
  params: z.strictObject({}),
  result: z.object({
    load1: z.number(),
    load5: z.number(),
    load15: z.number(),
    runnable: z.number().int(),
    processes: z.number().int(),
    cpus: z.number().int().positive(),
    load1PerCpu: z.number(),
  }),
  timeoutMs: 5_000,
  async handler(_params, ctx) {
    const load = parseLoadavg(await readProcFile(ctx, '/proc/loadavg'));
    const cpus = Math.max(1, countProcessors(await readProcFile(ctx, '/proc/cpuinfo')));
    return { ...load, cpus, load1PerCpu: Math.round((load.load1 / cpus) * 100) / 100 };
  },
});
