/**
 * Every statement this pack can send, fixed at build time. Each one returns a
 * single line of JSON (jsonb has no newlines in its text form), so parsing
 * never depends on column separators or quoting. The permission shapes are
 * generated from this table, so the manifest lists exactly these texts and a
 * host refuses any other SQL. Each text stays under the manifest's 256
 * character limit per argument.
 */
export const SQL = {
  databases:
    'select jsonb_agg(t order by t.name) from (select datname as name, pg_database_size(oid) as size_bytes, datallowconn as allow_conn, datistemplate as is_template from pg_database) t',
  sessions:
    "select jsonb_agg(t) from (select pid,usename u,datname d,application_name a,client_addr::text c,state s,extract(epoch from now()-query_start) x,left(query,200) q from pg_stat_activity where backend_type='client backend' and pid<>pg_backend_pid())t",
  maxConnections: "select jsonb_build_object('max_connections', current_setting('max_connections')::int)",
  statementsAvailable: "select jsonb_build_object('installed', exists(select 1 from pg_extension where extname='pg_stat_statements'))",
  statements:
    'select jsonb_agg(t) from (select queryid::text as id, calls, total_exec_time as total_ms, mean_exec_time as mean_ms, rows, left(query,300) as query from pg_stat_statements order by mean_exec_time desc limit 20) t',
  blocking:
    'select jsonb_agg(t) from (select pid, pg_blocking_pids(pid) as blocked_by, usename as usr, datname as db, extract(epoch from now()-query_start)::float8 as secs, left(query,300) as query from pg_stat_activity where cardinality(pg_blocking_pids(pid))>0) t',
  recovery:
    "select jsonb_build_object('in_recovery', pg_is_in_recovery(), 'replay_lag_s', extract(epoch from now()-pg_last_xact_replay_timestamp())::float8, 'receiver', (select status from pg_stat_wal_receiver limit 1))",
  replicas:
    'select jsonb_agg(t) from (select application_name as app, client_addr::text as client, state, sync_state, extract(epoch from replay_lag)::float8 as lag_s, pg_wal_lsn_diff(sent_lsn,replay_lsn)::float8 as lag_bytes from pg_stat_replication) t',
  settings:
    "select jsonb_agg(t order by t.name) from (select name, setting, unit, source from pg_settings where name in ('max_connections','shared_buffers','work_mem','maintenance_work_mem','effective_cache_size','wal_level','max_wal_size','checkpoint_timeout')) t",
  settings2:
    "select jsonb_agg(t order by t.name) from (select name, setting, unit, source from pg_settings where name in ('autovacuum','log_min_duration_statement','statement_timeout','shared_preload_libraries','max_replication_slots','ssl','listen_addresses')) t",
  version:
    "select jsonb_build_object('version', version(), 'num', current_setting('server_version_num')::int, 'started', pg_postmaster_start_time(), 'uptime_s', extract(epoch from now()-pg_postmaster_start_time())::float8)",
} as const;

export type SqlName = keyof typeof SQL;

/**
 * The statement sets a probe sends in one psql run (one `-c` each, answered
 * one JSON line each). Permission shapes are generated per set.
 */
export const QUERY_SETS = {
  databases: ['databases'],
  connections: ['sessions', 'maxConnections'],
  slow: ['sessions', 'statementsAvailable'],
  statements: ['statements'],
  blocking: ['blocking'],
  replication: ['recovery', 'replicas'],
  settings: ['settings', 'settings2'],
  version: ['version'],
} as const satisfies Record<string, readonly SqlName[]>;

export type QuerySet = keyof typeof QUERY_SETS;
