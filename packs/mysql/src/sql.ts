/**
 * Every statement this pack can send, fixed at build time. The permission
 * shapes list each one literally, so a host refuses any other SQL. Filters
 * (which variables, which status counters, thresholds) are applied in the pack
 * after the query; no caller value is ever part of a statement.
 */
export const SQL = {
  databases:
    'SELECT s.SCHEMA_NAME AS name,COALESCE(SUM(t.DATA_LENGTH+t.INDEX_LENGTH),0) AS size_bytes,COUNT(t.TABLE_NAME) AS tables FROM information_schema.SCHEMATA s LEFT JOIN information_schema.TABLES t ON t.TABLE_SCHEMA=s.SCHEMA_NAME GROUP BY s.SCHEMA_NAME',
  processlist:
    'SELECT ID,USER,HOST,DB,COMMAND,TIME,STATE,LEFT(INFO,200) AS INFO FROM information_schema.PROCESSLIST WHERE ID<>CONNECTION_ID() ORDER BY TIME DESC',
  status: 'SHOW GLOBAL STATUS',
  variables: 'SHOW GLOBAL VARIABLES',
  replicaStatus: 'SHOW REPLICA STATUS',
  slaveStatus: 'SHOW SLAVE STATUS',
  masterStatus: 'SHOW MASTER STATUS',
  server: 'SELECT @@server_id AS server_id, @@log_bin AS log_bin, @@read_only AS read_only, VERSION() AS version',
  innodb: 'SHOW ENGINE INNODB STATUS',
} as const;

export type SqlName = keyof typeof SQL;
