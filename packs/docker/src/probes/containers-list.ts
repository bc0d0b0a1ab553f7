import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { runDocker } from '../docker.js';
import { exitCodeFromStatus, toContainerRow } from '../parsers/containers.js';
import { jsonLines } from '../parsers/units.js';
import { PS_FORMAT } from '../permissions.js';

export const containersList = defineProbe({
  name: 'containers.list',
  description:
    'Containers with image, state, status text, health, exit code, ports, networks and labels, plus counts per state. Includes stopped containers unless all=false.',
  params: z.strictObject({ all: z.boolean().default(true) }),
  result: z.object({
    containers: z.array(
      z.object({
        id: z.string(),
        names: z.array(z.string()),
        image: z.string(),
        createdAt: z.string(),
        state: z.string(),
        status: z.string(),
        health: z.enum(['healthy', 'unhealthy', 'starting']).nullable(),
        exitCode: z.number().int().nullable(),
        ports: z.array(z.string()),
        networks: z.array(z.string()),
        labels: z.record(z.string(), z.string()),
      }),
    ),
    counts: z.record(z.string(), z.number().int()),
    unparsed: z.number().int(),
    truncated: z.boolean(),
  }),
  timeoutMs: 20_000,
  async handler(params, ctx) {
    const args = params.all
      ? ['container', 'ls', '--all', '--no-trunc', '--format', PS_FORMAT]
      : ['container', 'ls', '--no-trunc', '--format', PS_FORMAT];
    const out = await runDocker(ctx, args);
    const { records, unparsed } = jsonLines(out.stdout);
    const containers = records.map(toContainerRow).map((row) => ({ ...row, exitCode: exitCodeFromStatus(row.status) }));
    const counts: Record<string, number> = {};
    for (const c of containers) counts[c.state] = (counts[c.state] ?? 0) + 1;
    return { containers, counts, unparsed, truncated: out.truncated };
  },
});
