import { definePack } from '@sonde/pack-sdk';
import { permissions } from './permissions.js';
import { containerInspect } from './probes/container-inspect.js';
import { containerLogs } from './probes/container-logs.js';
import { containerStats } from './probes/container-stats.js';
import { containersList } from './probes/containers-list.js';
import { daemonInfo } from './probes/daemon-info.js';
import { imagesList } from './probes/images-list.js';
import { containersRunbook } from './runbooks/containers.js';

export default definePack({
  name: 'docker',
  description: 'Docker: containers, inspect, logs, stats, images and daemon info through the docker CLI',
  kind: 'system',
  detect: { commands: ['docker'], files: ['/var/run/docker.sock'], services: ['docker'] },
  permissions,
  probes: [containersList, containerInspect, containerLogs, containerStats, imagesList, daemonInfo],
  runbooks: [containersRunbook],
});
