import { z } from 'zod';
import { nameValueMap, toNumber, type BatchResult } from './batch.js';

/** The counters worth reading first; the full list has hundreds. */
export const STATUS_COUNTERS = [
  'Uptime',
  'Threads_connected',
  'Threads_running',
  'Threads_created',
  'Max_used_connections',
  'Connections',
  'Aborted_connects',
  'Aborted_clients',
  'Questions',
  'Slow_queries',
  'Com_select',
  'Com_insert',
  'Com_update',
  'Com_delete',
  'Created_tmp_tables',
  'Created_tmp_disk_tables',
  'Table_locks_waited',
  'Open_tables',
  'Opened_tables',
  'Innodb_buffer_pool_read_requests',
  'Innodb_buffer_pool_reads',
  'Innodb_buffer_pool_pages_dirty',
  'Innodb_buffer_pool_pages_free',
  'Innodb_buffer_pool_pages_total',
  'Innodb_row_lock_waits',
  'Innodb_row_lock_current_waits',
  'Innodb_deadlocks',
  'Bytes_received',
  'Bytes_sent',
] as const;

export const StatusResultSchema = z.object({
  uptimeSeconds: z.number().nullable(),
  threadsConnected: z.number().nullable(),
  threadsRunning: z.number().nullable(),
  maxUsedConnections: z.number().nullable(),
  slowQueries: z.number().nullable(),
  questionsPerSecond: z.number().nullable().describe('Average since start.'),
  bufferPoolHitRate: z.number().nullable().describe('1 - reads from disk / read requests; null before any request.'),
  tmpDiskTableRatio: z.number().nullable().describe('Share of temporary tables that went to disk.'),
  counters: z
    .record(z.string(), z.number().nullable())
    .describe('The subset of SHOW GLOBAL STATUS listed in the pack (absent ones are null).'),
});
export type StatusResult = z.infer<typeof StatusResultSchema>;

const ratio = (n: number | null, d: number | null): number | null => (n !== null && d ? Math.round((n / d) * 10000) / 10000 : null);

export function parseStatus(result: BatchResult): StatusResult {
  const all = nameValueMap(result);
  const counters = Object.fromEntries(STATUS_COUNTERS.map((name) => [name, toNumber(all.get(name))]));
  const c = (name: (typeof STATUS_COUNTERS)[number]): number | null => counters[name] ?? null;
  const requests = c('Innodb_buffer_pool_read_requests');
  const reads = c('Innodb_buffer_pool_reads');
  return {
    uptimeSeconds: c('Uptime'),
    threadsConnected: c('Threads_connected'),
    threadsRunning: c('Threads_running'),
    maxUsedConnections: c('Max_used_connections'),
    slowQueries: c('Slow_queries'),
    questionsPerSecond: ratio(c('Questions'), c('Uptime')),
    bufferPoolHitRate: requests && reads !== null ? Math.round((1 - reads / requests) * 10000) / 10000 : null,
    tmpDiskTableRatio: ratio(c('Created_tmp_disk_tables'), c('Created_tmp_tables')),
    counters,
  };
}
