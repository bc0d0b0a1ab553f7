import { defineProbe } from '@sonde/pack-sdk';
import { ConnectionParamsSchema, query } from '../connection.js';
import { InnodbResultSchema, parseInnodbStatus } from '../parsers/innodb.js';

export const innodbStatus = defineProbe({
  name: 'innodb.status',
  description:
    'Summary of SHOW ENGINE INNODB STATUS: history list length, active transactions and lock waits, the latest deadlock, buffer pool pages and hit rate, log sequence and checkpoint age.',
  params: ConnectionParamsSchema,
  result: InnodbResultSchema,
  timeoutMs: 15_000,
  async handler(params, ctx) {
    return parseInnodbStatus(await query(ctx, params, 'innodb'));
  },
});
