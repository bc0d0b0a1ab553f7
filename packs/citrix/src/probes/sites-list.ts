import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { whoAmI } from '../api.js';

export const sitesList = defineProbe({
  name: 'sites.list',
  description:
    'Customers and DaaS sites the configured API client can see (ids and names), from /cvad/manage/me. The cheapest connection test; the first site is used when no siteId is configured.',
  params: z.strictObject({}),
  result: z.object({
    customers: z.array(
      z.object({ id: z.string(), name: z.string().nullable(), sites: z.array(z.object({ id: z.string(), name: z.string().nullable() })) }),
    ),
  }),
  timeoutMs: 20_000,
  openWorld: true,
  async handler(_params, ctx) {
    const me = await whoAmI(ctx);
    return {
      customers: me.Customers.map((c) => ({
        id: c.Id,
        name: c.Name ?? null,
        sites: c.Sites.map((s) => ({ id: s.Id, name: s.Name ?? null })),
      })),
    };
  },
});
