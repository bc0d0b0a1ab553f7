import { definePack } from '@sonde/pack-sdk';
import { psqlShapes } from './connection.js';
import { connectionsActive } from './probes/connections-active.js';
import { databasesList } from './probes/databases-list.js';
import { locksBlocking } from './probes/locks-blocking.js';
import { queriesSlow } from './probes/queries-slow.js';
import { replicationStatus } from './probes/replication-status.js';
import { settingsImportant } from './probes/settings-important.js';
import { version } from './probes/version.js';
import { healthRunbook } from './runbooks/health.js';

export default definePack({
  name: 'postgres',
  description: 'PostgreSQL: databases and sizes, active connections, slow queries, lock waits, replication, settings and version.',
  kind: 'system',
  detect: {
    commands: ['psql', 'postgres', 'pg_ctl', 'pg_ctlcluster'],
    files: ['/etc/postgresql', '/var/lib/postgresql', '/var/run/postgresql'],
    services: ['postgresql', 'postgres'],
  },
  permissions: {
    commands: [
      {
        binary: 'psql',
        description: 'Read-only catalog and statistics queries, fixed in the pack; connection values are separate arguments.',
        args: psqlShapes(),
      },
    ],
  },
  probes: [databasesList, connectionsActive, queriesSlow, locksBlocking, replicationStatus, settingsImportant, version],
  runbooks: [healthRunbook],
});

export { ConnectionParamsSchema } from './connection.js';
export { QUERY_SETS, SQL } from './sql.js';
