import { defineProbe, expectShape } from '@sonde/pack-sdk';
import { z } from 'zod';
import { openSession, readCollection } from '../api.js';

/** DeliveryGroupResponseModel fields this pack reads (GET /cvad/manage/DeliveryGroups). */
const RawGroup = z.object({
  Id: z.string(),
  Name: z.string(),
  Enabled: z.boolean().nullish(),
  InMaintenanceMode: z.boolean().nullish(),
  IsBroken: z.boolean().nullish(),
  DeliveryType: z.string().nullish(),
  SessionSupport: z.string().nullish(),
  TotalMachines: z.number().int().nullish(),
  RegisteredMachines: z.number().int().nullish(),
  Sessions: z.number().int().nullish(),
  MinimumFunctionalLevel: z.string().nullish(),
});

export const deliveryGroupsList = defineProbe({
  name: 'delivery_groups.list',
  description:
    'Delivery groups of the site: enabled, maintenance mode, broken, delivery type, single/multi session, machines total/registered/unregistered and session count, worst first.',
  params: z.strictObject({}),
  result: z.object({
    site: z.object({ id: z.string(), name: z.string().nullable() }),
    groups: z.array(
      z.object({
        name: z.string(),
        enabled: z.boolean().nullable(),
        inMaintenanceMode: z.boolean(),
        broken: z.boolean(),
        deliveryType: z.string().nullable(),
        sessionSupport: z.string().nullable(),
        totalMachines: z.number().int().nullable(),
        registeredMachines: z.number().int().nullable(),
        unregisteredMachines: z.number().int().nullable(),
        sessions: z.number().int().nullable(),
      }),
    ),
    truncated: z.boolean(),
  }),
  timeoutMs: 30_000,
  openWorld: true,
  async handler(_params, ctx) {
    const session = await openSession(ctx);
    const { items, complete } = await readCollection(ctx, session, '/cvad/manage/DeliveryGroups', 500);
    const groups = items
      .map((item) => expectShape(RawGroup, item, 'Citrix DaaS delivery group'))
      .map((g) => {
        const total = g.TotalMachines ?? null;
        const registered = g.RegisteredMachines ?? null;
        return {
          name: g.Name,
          enabled: g.Enabled ?? null,
          inMaintenanceMode: g.InMaintenanceMode ?? false,
          broken: g.IsBroken ?? false,
          deliveryType: g.DeliveryType ?? null,
          sessionSupport: g.SessionSupport ?? null,
          totalMachines: total,
          registeredMachines: registered,
          unregisteredMachines: total !== null && registered !== null ? Math.max(0, total - registered) : null,
          sessions: g.Sessions ?? null,
        };
      })
      .sort(
        (a, b) =>
          Number(b.broken) - Number(a.broken) ||
          (b.unregisteredMachines ?? 0) - (a.unregisteredMachines ?? 0) ||
          a.name.localeCompare(b.name),
      );
    return { site: { id: session.siteId, name: session.siteName }, groups, truncated: !complete };
  },
});
