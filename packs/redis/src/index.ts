import { definePack } from '@sonde/pack-sdk';
import { redisShapes } from './connection.js';
import { clientsList } from './probes/clients-list.js';
import { info } from './probes/info.js';
import { keyspace } from './probes/keyspace.js';
import { latency } from './probes/latency.js';
import { memory } from './probes/memory.js';
import { slowlog } from './probes/slowlog.js';
import { healthRunbook } from './runbooks/health.js';

export default definePack({
  name: 'redis',
  description: 'Redis: INFO, keyspace, memory, slow log, clients and latency spikes.',
  kind: 'system',
  detect: {
    commands: ['redis-cli', 'redis-server'],
    files: ['/etc/redis', '/var/lib/redis'],
    services: ['redis-server', 'redis'],
  },
  permissions: {
    commands: [
      {
        binary: 'redis-cli',
        description: 'Read-only commands only (INFO, MEMORY STATS, SLOWLOG GET/LEN, CLIENT LIST, LATENCY LATEST), JSON output.',
        args: redisShapes(),
      },
    ],
  },
  probes: [info, keyspace, memory, slowlog, clientsList, latency],
  runbooks: [healthRunbook],
});

export { ConnectionParamsSchema } from './connection.js';
