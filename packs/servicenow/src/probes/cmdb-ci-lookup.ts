import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { CI_CLASSES, readTable } from '../api.js';
import { CiName } from '../params.js';
import { CI_FIELDS, CiSchema, toCi } from '../parsers/records.js';

export const cmdbCiLookup = defineProbe({
  name: 'cmdb.ci.lookup',
  description:
    'Configuration items with exactly this name (e.g. a host name from another probe): class, operational and install status, IP, FQDN, OS, location, support group, owner, environment. Use class to search one CMDB class.',
  params: z.strictObject({
    name: CiName.describe('Exact CI name; case as the CMDB stores it.'),
    class: z.enum(CI_CLASSES).default('cmdb_ci'),
    limit: z.number().int().min(1).max(20).default(5),
  }),
  result: z.object({ total: z.number().int(), items: z.array(CiSchema) }),
  timeoutMs: 15_000,
  openWorld: true,
  async handler(params, ctx) {
    const { records, total } = await readTable(ctx, params.class, { query: `name=${params.name}`, fields: CI_FIELDS, limit: params.limit });
    return { total, items: records.map(toCi) };
  },
});
