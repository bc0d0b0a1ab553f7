import { definePack } from '@sonde/pack-sdk';
import { API_PATHS } from './api.js';
import { clusterStatus } from './probes/cluster-status.js';
import { nodeStorage } from './probes/node-storage.js';
import { nodesList } from './probes/nodes-list.js';
import { tasksRecent } from './probes/tasks-recent.js';
import { version } from './probes/version.js';
import { vmsList } from './probes/vms-list.js';
import { clusterHealthRunbook } from './runbooks/cluster-health.js';

export default definePack({
  name: 'proxmox',
  description:
    'Proxmox VE: cluster quorum and nodes, node load, VMs and containers, storage use and failed tasks over the API (read-only token).',
  kind: 'integration',
  permissions: {
    // http only so loopback test servers and local reverse proxies work; the token itself is never sent over http to a remote host.
    network: [
      { host: '{endpoint}', protocol: 'https', paths: [...API_PATHS] },
      { host: '{endpoint}', protocol: 'http', paths: [...API_PATHS] },
    ],
    credentials: [
      { name: 'tokenId', description: 'API token id, user@realm!tokenname (e.g. sonde@pve!monitor); give the user the PVEAuditor role.' },
      { name: 'tokenSecret', description: 'The API token secret (UUID) shown once when the token was created.' },
    ],
  },
  probes: [clusterStatus, nodesList, vmsList, nodeStorage, tasksRecent, version],
  runbooks: [clusterHealthRunbook],
});
