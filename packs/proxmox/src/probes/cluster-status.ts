import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { Flag, getData } from '../api.js';

const RawStatus = z.array(
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('cluster'), name: z.string(), nodes: z.number().int(), quorate: Flag, version: z.number().int() }),
    z.object({
      type: z.literal('node'),
      name: z.string(),
      nodeid: z.number().int().optional(),
      ip: z.string().optional(),
      online: Flag,
      local: Flag.optional(),
    }),
  ]),
);

export const clusterStatus = defineProbe({
  name: 'cluster.status',
  description:
    'Cluster membership and quorum: cluster name, quorate, config version, and each node with id, IP, online and whether it is the node answering. A standalone node has cluster null.',
  params: z.strictObject({}),
  result: z.object({
    cluster: z.object({ name: z.string(), quorate: z.boolean(), nodes: z.number().int(), version: z.number().int() }).nullable(),
    nodes: z.array(
      z.object({
        name: z.string(),
        nodeid: z.number().int().nullable(),
        ip: z.string().nullable(),
        online: z.boolean(),
        local: z.boolean(),
      }),
    ),
    online: z.number().int(),
    offline: z.number().int(),
  }),
  timeoutMs: 15_000,
  openWorld: true,
  async handler(_params, ctx) {
    const entries = await getData(ctx, '/api2/json/cluster/status', RawStatus);
    const cluster = entries.find((e) => e.type === 'cluster');
    const nodes = entries
      .filter((e) => e.type === 'node')
      .map((n) => ({ name: n.name, nodeid: n.nodeid ?? null, ip: n.ip ?? null, online: n.online, local: n.local ?? false }))
      .sort((a, b) => a.name.localeCompare(b.name));
    return {
      cluster: cluster ? { name: cluster.name, quorate: cluster.quorate, nodes: cluster.nodes, version: cluster.version } : null,
      nodes,
      online: nodes.filter((n) => n.online).length,
      offline: nodes.filter((n) => !n.online).length,
    };
  },
});
