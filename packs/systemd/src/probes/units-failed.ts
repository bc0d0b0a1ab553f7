import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { parseListUnits } from '../parsers/list-units.js';
import { LIST_FLAGS } from '../permissions.js';
import { run } from '../systemctl.js';
import { UnitRowSchema } from './units-list.js';

export const unitsFailed = defineProbe({
  name: 'units.failed',
  description: 'Units in the failed state (the first thing to check after a reboot or deploy). Empty list means none failed.',
  params: z.strictObject({}),
  result: z.object({ units: z.array(UnitRowSchema), count: z.number().int() }),
  timeoutMs: 20_000,
  async handler(_params, ctx) {
    const out = await run(ctx, 'systemctl', [...LIST_FLAGS, '--state=failed']);
    const units = parseListUnits(out.stdout);
    return { units, count: units.length };
  },
});
