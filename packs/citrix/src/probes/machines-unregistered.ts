import { defineProbe, expectShape } from '@sonde/pack-sdk';
import { z } from 'zod';
import { openSession, readCollection } from '../api.js';
import { DeliveryGroupName } from '../params.js';
import { MachineSchema, RawMachine, toMachine } from '../parsers/machines.js';

export const machinesUnregistered = defineProbe({
  name: 'machines.unregistered',
  description:
    'VDAs that are not registered with the site (Unregistered, Initializing, AgentError...), with power state, maintenance mode, fault state, delivery group, catalog, VDA version and the last deregistration reason and time; counts per registration state over all machines.',
  params: z.strictObject({
    deliveryGroup: DeliveryGroupName.optional().describe('Only machines of this delivery group.'),
    includeMaintenance: z.boolean().default(true).describe('False leaves out machines in maintenance mode (expected to be down).'),
    limit: z.number().int().min(1).max(1000).default(100),
  }),
  result: z.object({
    site: z.object({ id: z.string(), name: z.string().nullable() }),
    total: z.number().int().describe('Machines read (all states).'),
    byRegistrationState: z.record(z.string(), z.number().int()),
    machines: z.array(MachineSchema),
    truncated: z.boolean().describe('True when the list was cut by limit or the site has more machines than were read.'),
  }),
  timeoutMs: 45_000,
  maxOutputBytes: 2 * 1024 * 1024,
  openWorld: true,
  async handler(params, ctx) {
    const session = await openSession(ctx);
    const { items, complete } = await readCollection(ctx, session, '/cvad/manage/Machines', 1000);
    const all = items
      .map((item) => toMachine(expectShape(RawMachine, item, 'Citrix DaaS machine')))
      .filter((m) => !params.deliveryGroup || m.deliveryGroup === params.deliveryGroup);
    const byRegistrationState: Record<string, number> = {};
    for (const m of all) byRegistrationState[m.registrationState] = (byRegistrationState[m.registrationState] ?? 0) + 1;
    const unregistered = all
      .filter((m) => m.registrationState !== 'Registered')
      .filter((m) => params.includeMaintenance || !m.inMaintenanceMode)
      .sort((a, b) => (b.lastDeregistrationTime ?? '').localeCompare(a.lastDeregistrationTime ?? ''));
    return {
      site: { id: session.siteId, name: session.siteName },
      total: all.length,
      byRegistrationState,
      machines: unregistered.slice(0, params.limit),
      truncated: unregistered.length > params.limit || !complete,
    };
  },
});
