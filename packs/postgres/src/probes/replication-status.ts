import { defineProbe } from '@sonde/pack-sdk';
import { ConnectionParamsSchema, queryJson } from '../connection.js';
import { ReplicationResultSchema, parseReplication } from '../parsers/replication.js';

export const replicationStatus = defineProbe({
  name: 'replication.status',
  description:
    'Whether this server is a primary or a standby, its replicas (pg_stat_replication) with lag in seconds and bytes, and on a standby the replay lag and WAL receiver state.',
  params: ConnectionParamsSchema,
  result: ReplicationResultSchema,
  timeoutMs: 15_000,
  async handler(params, ctx) {
    const [recovery, replicas] = await queryJson(ctx, params, 'replication');
    return parseReplication(recovery, replicas);
  },
});
