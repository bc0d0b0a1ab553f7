import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { getData, percent } from '../api.js';

const RawNodes = z.array(
  z.object({
    node: z.string(),
    status: z.enum(['online', 'offline', 'unknown']),
    cpu: z.number().optional(),
    maxcpu: z.number().optional(),
    mem: z.number().optional(),
    maxmem: z.number().optional(),
    disk: z.number().optional(),
    maxdisk: z.number().optional(),
    uptime: z.number().optional(),
  }),
);

export const nodesList = defineProbe({
  name: 'nodes.list',
  description: 'Every node with status (online/offline), CPU use and cores, memory and root disk used/total with percentages, and uptime.',
  params: z.strictObject({}),
  result: z.object({
    nodes: z.array(
      z.object({
        node: z.string(),
        status: z.enum(['online', 'offline', 'unknown']),
        cpuPercent: z.number().nullable(),
        cores: z.number().nullable(),
        memUsedBytes: z.number().nullable(),
        memTotalBytes: z.number().nullable(),
        memPercent: z.number().nullable(),
        rootUsedBytes: z.number().nullable(),
        rootTotalBytes: z.number().nullable(),
        rootPercent: z.number().nullable(),
        uptimeSeconds: z.number().nullable(),
      }),
    ),
  }),
  timeoutMs: 15_000,
  openWorld: true,
  async handler(_params, ctx) {
    const nodes = await getData(ctx, '/api2/json/nodes', RawNodes);
    return {
      nodes: nodes
        .map((n) => ({
          node: n.node,
          status: n.status,
          cpuPercent: n.cpu === undefined ? null : Math.round(n.cpu * 1000) / 10,
          cores: n.maxcpu ?? null,
          memUsedBytes: n.mem ?? null,
          memTotalBytes: n.maxmem ?? null,
          memPercent: percent(n.mem, n.maxmem),
          rootUsedBytes: n.disk ?? null,
          rootTotalBytes: n.maxdisk ?? null,
          rootPercent: percent(n.disk, n.maxdisk),
          uptimeSeconds: n.uptime ?? null,
        }))
        .sort((a, b) => a.node.localeCompare(b.node)),
    };
  },
});
