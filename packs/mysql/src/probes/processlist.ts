import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { ConnectionParamsSchema, query } from '../connection.js';
import { StatementTextParam, statementText } from '../statement-text.js';
import { ProcesslistResultSchema, parseThreads, summarizeThreads } from '../parsers/processlist.js';

export const processlist = defineProbe({
  name: 'processlist',
  description:
    'Server threads (information_schema.PROCESSLIST) other than the probe: counts by command and user, the longest running query, and each thread in its state at least minSeconds (statement literals replaced by ? unless statementText is full).',
  params: ConnectionParamsSchema.extend({
    minSeconds: z.number().int().min(0).max(86_400).default(0).describe('List only threads at least this long in their state.'),
    statementText: StatementTextParam,
  }),
  result: ProcesslistResultSchema,
  timeoutMs: 15_000,
  async handler(params, ctx) {
    const threads = parseThreads(await query(ctx, params, 'processlist')).map((t) => ({
      ...t,
      info: statementText(t.info, params.statementText),
    }));
    return summarizeThreads(threads, params.minSeconds);
  },
});
