import { z } from 'zod';
import { nameValueMap, toNumber, type BatchResult } from './batch.js';

export const IMPORTANT_VARIABLES = [
  'version',
  'version_comment',
  'max_connections',
  'max_user_connections',
  'thread_cache_size',
  'wait_timeout',
  'max_allowed_packet',
  'innodb_buffer_pool_size',
  'innodb_log_file_size',
  'innodb_flush_log_at_trx_commit',
  'innodb_file_per_table',
  'innodb_flush_method',
  'sync_binlog',
  'log_bin',
  'binlog_format',
  'server_id',
  'read_only',
  'gtid_strict_mode',
  'slow_query_log',
  'long_query_time',
  'table_open_cache',
  'tmp_table_size',
  'max_heap_table_size',
  'query_cache_type',
  'query_cache_size',
  'character_set_server',
  'collation_server',
  'sql_mode',
  'bind_address',
  'skip_networking',
] as const;

export const VariablesResultSchema = z.object({
  variables: z.array(
    z.object({
      name: z.string(),
      value: z.string().nullable(),
      number: z.number().nullable().describe('The value as a number when it is one (sizes are in bytes).'),
    }),
  ),
  missing: z.array(z.string()).describe('Listed variables this server does not have (MySQL vs MariaDB, version).'),
});
export type VariablesResult = z.infer<typeof VariablesResultSchema>;

export function parseVariables(result: BatchResult): VariablesResult {
  const all = nameValueMap(result);
  const present = IMPORTANT_VARIABLES.filter((name) => all.has(name));
  return {
    variables: present.map((name) => {
      const value = all.get(name) ?? null;
      return { name, value, number: toNumber(value) };
    }),
    missing: IMPORTANT_VARIABLES.filter((name) => !all.has(name)),
  };
}
