import { definePack } from '@sonde/pack-sdk';
import { CLIENTS, mysqlShapes } from './connection.js';
import { databasesList } from './probes/databases-list.js';
import { innodbStatus } from './probes/innodb-status.js';
import { processlist } from './probes/processlist.js';
import { replicationStatus } from './probes/replication-status.js';
import { status } from './probes/status.js';
import { variablesImportant } from './probes/variables-important.js';
import { healthRunbook } from './runbooks/health.js';

export default definePack({
  name: 'mysql',
  description: 'MariaDB and MySQL: databases and sizes, processlist, status counters, important variables, replication and InnoDB status.',
  kind: 'system',
  detect: {
    commands: ['mariadb', 'mysql', 'mariadbd', 'mysqld'],
    files: ['/etc/mysql', '/var/lib/mysql', '/run/mysqld'],
    services: ['mariadb', 'mysql', 'mariadbd', 'mysqld'],
  },
  permissions: {
    commands: CLIENTS.map((binary) => ({
      binary,
      description: 'Read-only SHOW and information_schema statements, fixed in the pack; connection values are separate arguments.',
      args: mysqlShapes(),
    })),
  },
  probes: [databasesList, processlist, status, variablesImportant, replicationStatus, innodbStatus],
  runbooks: [healthRunbook],
});

export { ConnectionParamsSchema } from './connection.js';
export { SQL } from './sql.js';
