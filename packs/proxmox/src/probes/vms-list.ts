import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { Flag, getData, NodeName, percent } from '../api.js';

const RawResources = z.array(
  z.object({
    id: z.string(),
    type: z.enum(['qemu', 'lxc']),
    vmid: z.number().int(),
    name: z.string().optional(),
    node: z.string(),
    status: z.string(),
    cpu: z.number().optional(),
    maxcpu: z.number().optional(),
    mem: z.number().optional(),
    maxmem: z.number().optional(),
    uptime: z.number().optional(),
    template: Flag.optional(),
    hastate: z.string().optional(),
    tags: z.string().optional(),
    lock: z.string().optional(),
  }),
);

export const vmsList = defineProbe({
  name: 'vms.list',
  description:
    'Virtual machines and containers across the cluster: vmid, name, type (qemu/lxc), node, status, CPU and memory use, uptime, HA state, lock and tags; counts per status. Templates are left out.',
  params: z.strictObject({
    node: NodeName.optional().describe('Only guests on this node.'),
    status: z.enum(['running', 'stopped', 'all']).default('all'),
    type: z.enum(['qemu', 'lxc', 'all']).default('all'),
    limit: z.number().int().min(1).max(5000).default(500),
  }),
  result: z.object({
    counts: z.record(z.string(), z.number().int()).describe('Guests per status, before the limit.'),
    guests: z.array(
      z.object({
        vmid: z.number().int(),
        name: z.string().nullable(),
        type: z.enum(['qemu', 'lxc']),
        node: z.string(),
        status: z.string(),
        cpuPercent: z.number().nullable(),
        cores: z.number().nullable(),
        memPercent: z.number().nullable(),
        memTotalBytes: z.number().nullable(),
        uptimeSeconds: z.number().nullable(),
        haState: z.string().nullable(),
        lock: z.string().nullable(),
        tags: z.array(z.string()),
      }),
    ),
    truncated: z.boolean(),
  }),
  timeoutMs: 20_000,
  openWorld: true,
  async handler(params, ctx) {
    const resources = await getData(ctx, '/api2/json/cluster/resources', RawResources, { type: 'vm' });
    const matching = resources
      .filter((r) => !r.template)
      .filter((r) => !params.node || r.node === params.node)
      .filter((r) => params.type === 'all' || r.type === params.type);
    const counts: Record<string, number> = {};
    for (const r of matching) counts[r.status] = (counts[r.status] ?? 0) + 1;
    const listed = matching.filter((r) => params.status === 'all' || r.status === params.status).sort((a, b) => a.vmid - b.vmid);
    return {
      counts,
      guests: listed.slice(0, params.limit).map((r) => ({
        vmid: r.vmid,
        name: r.name ?? null,
        type: r.type,
        node: r.node,
        status: r.status,
        cpuPercent: r.cpu === undefined ? null : Math.round(r.cpu * 1000) / 10,
        cores: r.maxcpu ?? null,
        memPercent: percent(r.mem, r.maxmem),
        memTotalBytes: r.maxmem ?? null,
        uptimeSeconds: r.uptime ?? null,
        haState: r.hastate ?? null,
        lock: r.lock ?? null,
        tags: r.tags ? r.tags.split(/[;, ]+/).filter(Boolean) : [],
      })),
      truncated: listed.length > params.limit,
    };
  },
});
