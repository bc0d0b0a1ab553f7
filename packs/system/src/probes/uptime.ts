import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { parseUptime } from '../parsers/loadavg.js';
import { readProcFile } from '../proc.js';

export const uptime = defineProbe({
  name: 'uptime',
  description: 'Seconds since boot and the boot time (ISO 8601), from /proc/uptime.',
  params: z.strictObject({}),
  result: z.object({ uptimeSeconds: z.number().nonnegative(), idleSeconds: z.number().nonnegative(), bootTime: z.string() }),
  timeoutMs: 5_000,
  async handler(_params, ctx) {
    const up = parseUptime(await readProcFile(ctx, '/proc/uptime'));
    return { ...up, bootTime: new Date(Date.now() - up.uptimeSeconds * 1000).toISOString() };
  },
});
