import { z } from 'zod';
import { toNumber, type BatchResult, type Row } from './batch.js';

export const ReplicationResultSchema = z.object({
  configured: z.boolean().describe('False when this server is not a replica and writes no binary log.'),
  role: z.enum(['replica', 'source', 'standalone']).describe('source: writes a binary log others can read.'),
  serverId: z.number().nullable(),
  readOnly: z.boolean().nullable(),
  binaryLog: z
    .object({ enabled: z.boolean(), file: z.string().nullable(), position: z.number().nullable() })
    .describe('SHOW MASTER STATUS; file and position are null when the log is off or the statement is not allowed.'),
  replica: z
    .object({
      sourceHost: z.string().nullable(),
      sourcePort: z.number().nullable(),
      ioRunning: z.string().nullable().describe('Yes, No or Connecting.'),
      sqlRunning: z.string().nullable(),
      secondsBehind: z.number().nullable().describe('Null when the SQL thread is not running.'),
      lastIoError: z.string().nullable(),
      lastSqlError: z.string().nullable(),
      usingGtid: z.string().nullable(),
      state: z.string().nullable(),
    })
    .nullable(),
});
export type ReplicationResult = z.infer<typeof ReplicationResultSchema>;

/** MySQL 8.0.22+ names columns Source/Replica; MariaDB and older MySQL Master/Slave. */
function pick(row: Row, ...names: string[]): string | null {
  for (const name of names) {
    const value = row[name];
    if (value !== undefined && value !== null && value !== '') return value;
  }
  return null;
}

export function parseReplica(result: BatchResult): ReplicationResult['replica'] {
  const row = result.rows[0];
  if (!row) return null;
  return {
    sourceHost: pick(row, 'Source_Host', 'Master_Host'),
    sourcePort: toNumber(pick(row, 'Source_Port', 'Master_Port')),
    ioRunning: pick(row, 'Replica_IO_Running', 'Slave_IO_Running'),
    sqlRunning: pick(row, 'Replica_SQL_Running', 'Slave_SQL_Running'),
    secondsBehind: toNumber(pick(row, 'Seconds_Behind_Source', 'Seconds_Behind_Master')),
    lastIoError: pick(row, 'Last_IO_Error'),
    lastSqlError: pick(row, 'Last_SQL_Error'),
    usingGtid: pick(row, 'Using_Gtid'),
    state: pick(row, 'Replica_IO_State', 'Slave_IO_State'),
  };
}

export function parseReplication(server: BatchResult, replica: BatchResult, master: BatchResult | null): ReplicationResult {
  const srv = server.rows[0] ?? {};
  const logBin = srv.log_bin === '1';
  const masterRow = master?.rows[0];
  const replicaInfo = parseReplica(replica);
  return {
    configured: replicaInfo !== null || logBin,
    role: replicaInfo !== null ? 'replica' : logBin ? 'source' : 'standalone',
    serverId: toNumber(srv.server_id),
    readOnly: srv.read_only === undefined || srv.read_only === null ? null : srv.read_only === '1',
    binaryLog: {
      enabled: logBin,
      file: masterRow ? pick(masterRow, 'File') : null,
      position: masterRow ? toNumber(pick(masterRow, 'Position')) : null,
    },
    replica: replicaInfo,
  };
}
