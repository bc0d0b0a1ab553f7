import { defineProbe } from '@sonde/pack-sdk';
import { ConnectionParamsSchema, queryJson } from '../connection.js';
import { StatementTextParam, statementText } from '../statement-text.js';
import { BlockingResultSchema, parseBlocking } from '../parsers/blocking.js';

export const locksBlocking = defineProbe({
  name: 'locks.blocking',
  description:
    'Sessions waiting on a lock, the pids blocking each (pg_blocking_pids), and the root blockers that hold everyone up (statement literals replaced by ? unless statementText is full).',
  params: ConnectionParamsSchema.extend({ statementText: StatementTextParam }),
  result: BlockingResultSchema,
  timeoutMs: 15_000,
  async handler(params, ctx) {
    const [rows] = await queryJson(ctx, params, 'blocking');
    const result = parseBlocking(rows);
    return { ...result, blocked: result.blocked.map((b) => ({ ...b, query: statementText(b.query, params.statementText) })) };
  },
});
