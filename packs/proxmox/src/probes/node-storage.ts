import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { Flag, getData, NodeName, percent } from '../api.js';

const RawStorage = z.array(
  z.object({
    storage: z.string(),
    type: z.string(),
    content: z.string().default(''),
    active: Flag.optional(),
    enabled: Flag.optional(),
    shared: Flag.optional(),
    total: z.number().optional(),
    used: z.number().optional(),
    avail: z.number().optional(),
  }),
);

export const nodeStorage = defineProbe({
  name: 'node.storage',
  description:
    'Storages visible on one node: type, content types, active/enabled/shared, used/total/available bytes and percent used, sorted fullest first. An enabled storage that is not active is usually unreachable (NFS/Ceph down).',
  params: z.strictObject({ node: NodeName.describe('Node name as in nodes.list.') }),
  result: z.object({
    node: z.string(),
    storages: z.array(
      z.object({
        storage: z.string(),
        type: z.string(),
        content: z.array(z.string()),
        active: z.boolean(),
        enabled: z.boolean(),
        shared: z.boolean(),
        usedBytes: z.number().nullable(),
        totalBytes: z.number().nullable(),
        availBytes: z.number().nullable(),
        usedPercent: z.number().nullable(),
      }),
    ),
  }),
  timeoutMs: 20_000,
  openWorld: true,
  async handler(params, ctx) {
    // NodeName's regex admits nothing that could leave the path segment.
    const storages = await getData(ctx, `/api2/json/nodes/${params.node}/storage`, RawStorage);
    return {
      node: params.node,
      storages: storages
        .map((s) => ({
          storage: s.storage,
          type: s.type,
          content: s.content.split(',').filter(Boolean),
          active: s.active ?? false,
          enabled: s.enabled ?? true,
          shared: s.shared ?? false,
          usedBytes: s.used ?? null,
          totalBytes: s.total ?? null,
          availBytes: s.avail ?? null,
          usedPercent: percent(s.used, s.total),
        }))
        .sort((a, b) => (b.usedPercent ?? -1) - (a.usedPercent ?? -1)),
    };
  },
});
