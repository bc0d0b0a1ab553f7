import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { runDocker } from '../docker.js';
import { ContainerParam } from '../params.js';
import { mergeByTime, parseLogLines } from '../parsers/logs.js';

const MAX_BYTES = 2 * 1024 * 1024;

export const containerLogs = defineProbe({
  name: 'container.logs',
  description:
    'Last lines a container wrote (stdout and stderr interleaved by timestamp), optionally only the last N minutes. Tails by default; truncated says whether older lines exist beyond the limit.',
  params: z.strictObject({
    container: ContainerParam,
    lines: z.number().int().min(1).max(2000).default(200),
    sinceMinutes: z.number().int().min(1).max(10_080).optional(),
  }),
  result: z.object({
    container: z.string(),
    lines: z.array(z.object({ time: z.string().nullable(), stream: z.enum(['stdout', 'stderr']), message: z.string() })),
    truncated: z.boolean(),
  }),
  timeoutMs: 20_000,
  maxOutputBytes: MAX_BYTES,
  async handler(params, ctx) {
    const args = ['container', 'logs', '--timestamps', '--tail', String(params.lines)];
    if (params.sinceMinutes) args.push('--since', `${params.sinceMinutes}m`);
    args.push(params.container);
    const out = await runDocker(ctx, args, MAX_BYTES);
    const merged = mergeByTime(parseLogLines(out.stdout, 'stdout'), parseLogLines(out.stderr, 'stderr'));
    const kept = merged.slice(-params.lines);
    // docker applies --tail to each stream, so the merged list can exceed the limit.
    return {
      container: params.container,
      lines: kept,
      truncated: out.truncated || merged.length > kept.length || kept.length === params.lines,
    };
  },
});
