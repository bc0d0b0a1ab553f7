import { defineProbe } from '@sonde/pack-sdk';
import { ConnectionParamsSchema, queryJson } from '../connection.js';
import { StatementTextParam, statementText } from '../statement-text.js';
import { ConnectionsResultSchema, parseMaxConnections, parseSessions, summarizeConnections } from '../parsers/sessions.js';

export const connectionsActive = defineProbe({
  name: 'connections.active',
  description:
    'Client sessions from pg_stat_activity: counts by state and database, share of max_connections in use, the longest running query and each session (statement literals replaced by ? unless statementText is full).',
  params: ConnectionParamsSchema.extend({ statementText: StatementTextParam }),
  result: ConnectionsResultSchema,
  timeoutMs: 15_000,
  async handler(params, ctx) {
    const [sessions, max] = await queryJson(ctx, params, 'connections');
    const parsed = parseSessions(sessions).map((s) => ({ ...s, query: statementText(s.query, params.statementText) }));
    return summarizeConnections(parsed, parseMaxConnections(max));
  },
});
