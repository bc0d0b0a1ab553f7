import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { parseTimers } from '../parsers/timers.js';
import { TIMER_FLAGS } from '../permissions.js';
import { run } from '../systemctl.js';

export const timersList = defineProbe({
  name: 'timers.list',
  description:
    'Timers with next and last run (timestamps as systemd prints them, with "left"/"ago"), the unit each activates; inactive timers have null next.',
  params: z.strictObject({}),
  result: z.object({
    timers: z.array(
      z.object({
        next: z.string().nullable(),
        left: z.string().nullable(),
        last: z.string().nullable(),
        passed: z.string().nullable(),
        unit: z.string(),
        activates: z.string(),
      }),
    ),
  }),
  timeoutMs: 15_000,
  async handler(_params, ctx) {
    const out = await run(ctx, 'systemctl', [...TIMER_FLAGS]);
    return { timers: parseTimers(out.stdout) };
  },
});
