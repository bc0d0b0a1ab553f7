import { defineProbe, isSondeError } from '@sonde/pack-sdk';
import { z } from 'zod';
import { ConnectionParamsSchema, queryJson } from '../connection.js';
import { StatementTextParam, statementText } from '../statement-text.js';
import { SessionSchema, parseSessions } from '../parsers/sessions.js';
import { StatementSchema, parseStatements, parseStatementsInstalled } from '../parsers/statements.js';

const ParamsSchema = ConnectionParamsSchema.extend({
  minSeconds: z.number().int().min(0).max(86_400).default(5).describe('Report active queries running at least this long.'),
  limit: z.number().int().min(1).max(100).default(20),
  statementText: StatementTextParam,
});

const ResultSchema = z.object({
  thresholdSeconds: z.number().int(),
  running: z.array(SessionSchema).describe('Active queries over the threshold, longest first.'),
  statements: z.object({
    available: z.boolean(),
    reason: z.string().optional().describe('Why pg_stat_statements data is missing.'),
    top: z.array(StatementSchema).describe('Statements with the highest mean time (pg_stat_statements).'),
  }),
});

export const queriesSlow = defineProbe({
  name: 'queries.slow',
  description:
    'Queries running longer than minSeconds right now (pg_stat_activity), plus the slowest statements by mean time from pg_stat_statements when that extension is installed.',
  params: ParamsSchema,
  result: ResultSchema,
  timeoutMs: 20_000,
  async handler(params, ctx) {
    // The threshold is applied here, not in SQL: the SQL text stays fixed and no value is ever spliced into it.
    const [sessions, installed] = await queryJson(ctx, params, 'slow');
    const running = parseSessions(sessions)
      .filter((s) => s.state === 'active' && s.querySeconds !== null && s.querySeconds >= params.minSeconds)
      .sort((a, b) => b.querySeconds! - a.querySeconds!)
      .slice(0, params.limit)
      .map((s) => ({ ...s, query: statementText(s.query, params.statementText) }));
    let statements: z.input<typeof ResultSchema>['statements'];
    if (!parseStatementsInstalled(installed)) {
      statements = { available: false, reason: 'pg_stat_statements is not installed in this database', top: [] };
    } else {
      try {
        const [rows] = await queryJson(ctx, params, 'statements');
        // pg_stat_statements keeps utility statements (ALTER ROLE … PASSWORD) with their literals.
        const top = parseStatements(rows)
          .slice(0, params.limit)
          .map((s) => ({ ...s, query: statementText(s.query, params.statementText) }));
        statements = { available: true, top };
      } catch (error) {
        if (!isSondeError(error) || error.code !== 'SONDE_ERR_COMMAND_FAILED') throw error;
        // Installed but not loaded (shared_preload_libraries) or not readable by this role.
        statements = { available: false, reason: error.message.slice(0, 300), top: [] };
      }
    }
    return { thresholdSeconds: params.minSeconds, running, statements };
  },
});
