import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { ConnectionParamsSchema, redis } from '../connection.js';
import { SlowlogResultSchema, parseSlowlog } from '../parsers/slowlog.js';

export const slowlog = defineProbe({
  name: 'slowlog',
  description: 'The newest slow log entries (SLOWLOG GET count): when, how long in µs, the command and the client.',
  params: ConnectionParamsSchema.extend({ count: z.number().int().min(1).max(128).default(10) }),
  result: SlowlogResultSchema,
  timeoutMs: 10_000,
  async handler(params, ctx) {
    const entries = await redis(ctx, params, ['SLOWLOG', 'GET', String(params.count)]);
    const length = await redis(ctx, params, ['SLOWLOG', 'LEN']);
    return parseSlowlog(entries, length);
  },
});
