import { definePack } from '@sonde/pack-sdk';
import { permissions } from './permissions.js';
import { journalQuery } from './probes/journal-query.js';
import { timersList } from './probes/timers-list.js';
import { unitStatus } from './probes/unit-status.js';
import { unitsFailed } from './probes/units-failed.js';
import { unitsList } from './probes/units-list.js';
import { servicesRunbook } from './runbooks/services.js';

export default definePack({
  name: 'systemd',
  description: 'systemd: units, failed units, unit status, timers and per-unit journal queries',
  kind: 'system',
  // /run/systemd/system exists only when systemd is PID 1 (the sd_booted() check).
  detect: { commands: ['systemctl'], files: ['/run/systemd/system'], services: [] },
  permissions,
  probes: [unitsList, unitsFailed, unitStatus, journalQuery, timersList],
  runbooks: [servicesRunbook],
});
