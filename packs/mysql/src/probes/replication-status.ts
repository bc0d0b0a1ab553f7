import { defineProbe, isSondeError } from '@sonde/pack-sdk';
import { ConnectionParamsSchema, query, type ConnectionParams } from '../connection.js';
import type { BatchResult } from '../parsers/batch.js';
import { ReplicationResultSchema, parseReplication } from '../parsers/replication.js';
import type { ProbeContext } from '@sonde/pack-sdk';

function failedWith(error: unknown, ...reasons: string[]): boolean {
  return isSondeError(error) && error.code === 'SONDE_ERR_COMMAND_FAILED' && reasons.includes(String(error.details?.reason));
}

/** SHOW REPLICA STATUS exists from MySQL 8.0.22 and MariaDB 10.5.1; older servers only know SHOW SLAVE STATUS. */
async function replicaStatus(ctx: ProbeContext, params: ConnectionParams): Promise<BatchResult> {
  try {
    return await query(ctx, params, 'replicaStatus');
  } catch (error) {
    if (!failedWith(error, 'syntax')) throw error;
    return query(ctx, params, 'slaveStatus');
  }
}

export const replicationStatus = defineProbe({
  name: 'replication.status',
  description:
    'Whether this server is a replica (source, IO/SQL thread state, seconds behind, last errors), a source writing a binary log (file, position), or standalone with replication not configured.',
  params: ConnectionParamsSchema,
  result: ReplicationResultSchema,
  timeoutMs: 20_000,
  async handler(params, ctx) {
    const server = await query(ctx, params, 'server');
    const replica = await replicaStatus(ctx, params);
    let master: BatchResult | null = null;
    try {
      master = await query(ctx, params, 'masterStatus');
    } catch (error) {
      // Renamed in MySQL 8.4 and needs a privilege the monitoring account may lack: the position is optional.
      if (!failedWith(error, 'syntax', 'permission-denied')) throw error;
    }
    return parseReplication(server, replica, master);
  },
});
