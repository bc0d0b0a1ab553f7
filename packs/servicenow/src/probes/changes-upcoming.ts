import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { readTable } from '../api.js';
import { CHANGE_FIELDS, ChangeSchema, toChange } from '../parsers/records.js';

export const changesUpcoming = defineProbe({
  name: 'changes.upcoming',
  description:
    'Active change requests whose planned window overlaps the next N hours (so also those being implemented now), by start time: number, description, type, state, risk, approval, window, assignment and CI. Answers "is a change planned on this system?".',
  params: z.strictObject({
    hours: z.number().int().min(1).max(720).default(72),
    type: z.enum(['normal', 'standard', 'emergency']).optional(),
    limit: z.number().int().min(1).max(100).default(25),
  }),
  result: z.object({
    hours: z.number().int(),
    total: z.number().int(),
    changes: z.array(ChangeSchema),
    emergency: z.number().int().describe('Listed changes of type emergency.'),
  }),
  timeoutMs: 20_000,
  openWorld: true,
  async handler(params, ctx) {
    // Only the validated integer and enum are interpolated; gs.* are the instance's own date helpers.
    const conditions = ['active=true', `start_date<=javascript:gs.hoursAgo(-${params.hours})`, 'end_date>=javascript:gs.nowDateTime()'];
    if (params.type) conditions.push(`type=${params.type}`);
    conditions.push('ORDERBYstart_date');
    const { records, total } = await readTable(ctx, 'change_request', {
      query: conditions.join('^'),
      fields: CHANGE_FIELDS,
      limit: params.limit,
    });
    const changes = records.map(toChange);
    return { hours: params.hours, total, changes, emergency: changes.filter((c) => c.type?.toLowerCase() === 'emergency').length };
  },
});
