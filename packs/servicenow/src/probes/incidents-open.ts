import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { readTable } from '../api.js';
import { INCIDENT_FIELDS, IncidentSchema, toIncident } from '../parsers/records.js';

/** Incident state values of the base system (incident.state choice list). */
export const INCIDENT_STATES = { new: 1, in_progress: 2, on_hold: 3 } as const;
const ORDER = {
  priority: 'ORDERBYpriority^ORDERBYDESCsys_updated_on',
  updated: 'ORDERBYDESCsys_updated_on',
  opened: 'ORDERBYDESCopened_at',
} as const;

export const incidentsOpen = defineProbe({
  name: 'incidents.open',
  description:
    'Active incidents (not resolved, closed or canceled), most urgent first: number, short description, priority, state, assignment group and assignee, CI, opened and updated times; the total count matching.',
  params: z.strictObject({
    maxPriority: z.number().int().min(1).max(5).optional().describe('Only priority 1..N (1 = critical).'),
    state: z.enum(['new', 'in_progress', 'on_hold']).optional(),
    sort: z.enum(['priority', 'updated', 'opened']).default('priority'),
    limit: z.number().int().min(1).max(100).default(25),
  }),
  result: z.object({
    total: z.number().int().describe('Incidents matching, from X-Total-Count (may exceed the list).'),
    incidents: z.array(IncidentSchema),
    byPriority: z.record(z.string(), z.number().int()).describe('Listed incidents per priority.'),
  }),
  timeoutMs: 20_000,
  openWorld: true,
  async handler(params, ctx) {
    // Built from fixed text, one enum and integers only: nothing a caller sends is copied into the query.
    const conditions = ['active=true'];
    if (params.maxPriority !== undefined) conditions.push(`priority<=${params.maxPriority}`);
    if (params.state) conditions.push(`state=${INCIDENT_STATES[params.state]}`);
    conditions.push(ORDER[params.sort]);
    const { records, total } = await readTable(ctx, 'incident', {
      query: conditions.join('^'),
      fields: INCIDENT_FIELDS,
      limit: params.limit,
    });
    const incidents = records.map(toIncident);
    const byPriority: Record<string, number> = {};
    for (const i of incidents) byPriority[i.priority ?? 'none'] = (byPriority[i.priority ?? 'none'] ?? 0) + 1;
    return { total, incidents, byPriority };
  },
});
