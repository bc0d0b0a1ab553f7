import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { parseListUnits } from '../parsers/list-units.js';
import { LIST_FLAGS, UNIT_STATES, UNIT_TYPES } from '../permissions.js';
import { run } from '../systemctl.js';

export const UnitRowSchema = z.object({ unit: z.string(), load: z.string(), active: z.string(), sub: z.string(), description: z.string() });

export const unitsList = defineProbe({
  name: 'units.list',
  description:
    'Units systemd has loaded (unit, load, active, sub state, description), optionally of one type and/or in one state, with counts per active state.',
  params: z.strictObject({
    type: z.enum(UNIT_TYPES).optional(),
    state: z.enum(UNIT_STATES).optional(),
    limit: z.number().int().min(1).max(5000).default(1000),
  }),
  result: z.object({
    units: z.array(UnitRowSchema),
    counts: z.record(z.string(), z.number().int()),
    total: z.number().int(),
    truncated: z.boolean(),
  }),
  timeoutMs: 20_000,
  async handler(params, ctx) {
    const args = [...LIST_FLAGS];
    if (params.type) args.push(`--type=${params.type}`);
    if (params.state) args.push(`--state=${params.state}`);
    const out = await run(ctx, 'systemctl', args);
    const units = parseListUnits(out.stdout);
    const counts: Record<string, number> = {};
    for (const unit of units) counts[unit.active] = (counts[unit.active] ?? 0) + 1;
    return { units: units.slice(0, params.limit), counts, total: units.length, truncated: out.truncated || units.length > params.limit };
  },
});
