import { defineProbe } from '@sonde/pack-sdk';
import { ConnectionParamsSchema, queryJson } from '../connection.js';
import { ConnectionsResultSchema, parseMaxConnections, parseSessions, summarizeConnections } from '../parsers/sessions.js';

export const connectionsActive = defineProbe({
  name: 'connections.active',
  description:
    'Client sessions from pg_stat_activity: counts by state and database, share of max_connections in use, the longest running query and each session.',
  params: ConnectionParamsSchema,
  result: ConnectionsResultSchema,
  timeoutMs: 15_000,
  async handler(params, ctx) {
    const [sessions, max] = await queryJson(ctx, params, 'connections');
    return summarizeConnections(parseSessions(sessions), parseMaxConnections(max));
  },
});
