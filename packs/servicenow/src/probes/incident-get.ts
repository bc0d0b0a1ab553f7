import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { readTable } from '../api.js';
import { IncidentNumber } from '../params.js';
import { INCIDENT_DETAIL_FIELDS, IncidentDetailSchema, toIncidentDetail } from '../parsers/records.js';

export const incidentGet = defineProbe({
  name: 'incident.get',
  description:
    'One incident by number (INC0010001): description, caller, priority, state, assignment, CI and business service, resolution code and notes, reopen count. found is false when no incident has that number.',
  params: z.strictObject({ number: IncidentNumber }),
  result: z.object({ found: z.boolean(), incident: IncidentDetailSchema.nullable() }),
  timeoutMs: 15_000,
  openWorld: true,
  async handler(params, ctx) {
    const { records } = await readTable(ctx, 'incident', { query: `number=${params.number}`, fields: INCIDENT_DETAIL_FIELDS, limit: 1 });
    const record = records[0];
    return record ? { found: true, incident: toIncidentDetail(record) } : { found: false, incident: null };
  },
});
