import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { runDocker } from '../docker.js';
import { ContainerParam } from '../params.js';
import { toStatsRow } from '../parsers/stats.js';
import { jsonLines } from '../parsers/units.js';
import { JSON_FORMAT } from '../permissions.js';

const maybe = z.number().nullable();

export const containerStats = defineProbe({
  name: 'container.stats',
  description:
    'One snapshot of CPU %, memory use/limit/%, network and block I/O bytes and PIDs for running containers (or one container), busiest CPU first.',
  params: z.strictObject({ container: ContainerParam.optional() }),
  result: z.object({
    containers: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        cpuPercent: maybe,
        memPercent: maybe,
        memUsageBytes: maybe,
        memLimitBytes: maybe,
        netRxBytes: maybe,
        netTxBytes: maybe,
        blockReadBytes: maybe,
        blockWriteBytes: maybe,
        pids: maybe,
      }),
    ),
  }),
  timeoutMs: 30_000,
  async handler(params, ctx) {
    const args = ['container', 'stats', '--no-stream', '--no-trunc', '--format', JSON_FORMAT];
    if (params.container) args.push(params.container);
    const out = await runDocker(ctx, args);
    const rows = jsonLines(out.stdout).records.map(toStatsRow);
    rows.sort((a, b) => (b.cpuPercent ?? -1) - (a.cpuPercent ?? -1));
    return { containers: rows };
  },
});
