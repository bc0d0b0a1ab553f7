import { definePack } from '@sonde/pack-sdk';
import { permissions } from './permissions.js';
import { cpuUsage } from './probes/cpu-usage.js';
import { diskInodes } from './probes/disk-inodes.js';
import { diskUsage } from './probes/disk-usage.js';
import { loadAverage } from './probes/load-average.js';
import { logsDmesg } from './probes/logs-dmesg.js';
import { logsJournal } from './probes/logs-journal.js';
import { logsTail } from './probes/logs-tail.js';
import { memoryUsage } from './probes/memory-usage.js';
import { networkInterfaces } from './probes/network-interfaces.js';
import { networkPing } from './probes/network-ping.js';
import { networkTraceroute } from './probes/network-traceroute.js';
import { processesTop } from './probes/processes-top.js';
import { uptime } from './probes/uptime.js';
import { resourcesRunbook } from './runbooks/resources.js';

export default definePack({
  name: 'system',
  description: 'Host basics: disk, memory, CPU, load, network reachability and logs',
  kind: 'system',
  // Every Linux host qualifies: procfs and df are always there.
  detect: { commands: ['df'], files: ['/proc/meminfo'], services: [] },
  permissions,
  probes: [
    diskUsage,
    diskInodes,
    memoryUsage,
    cpuUsage,
    loadAverage,
    uptime,
    networkInterfaces,
    networkPing,
    networkTraceroute,
    logsJournal,
    logsDmesg,
    logsTail,
    processesTop,
  ],
  runbooks: [resourcesRunbook],
});
