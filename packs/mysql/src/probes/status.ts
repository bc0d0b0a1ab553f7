import { defineProbe } from '@sonde/pack-sdk';
import { ConnectionParamsSchema, query } from '../connection.js';
import { StatusResultSchema, parseStatus } from '../parsers/status.js';

export const status = defineProbe({
  name: 'status',
  description:
    'Key SHOW GLOBAL STATUS counters (threads, connections, slow queries, InnoDB buffer pool, row locks, temp tables) with uptime, questions/s, buffer pool hit rate and temp-on-disk ratio.',
  params: ConnectionParamsSchema,
  result: StatusResultSchema,
  timeoutMs: 15_000,
  async handler(params, ctx) {
    return parseStatus(await query(ctx, params, 'status'));
  },
});
