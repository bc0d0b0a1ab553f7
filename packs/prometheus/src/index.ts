import { definePack } from '@sonde/pack-sdk';
import { permissions } from './permissions.js';
import { alerts } from './probes/alerts.js';
import { buildinfo } from './probes/buildinfo.js';
import { query } from './probes/query.js';
import { rules } from './probes/rules.js';
import { targets } from './probes/targets.js';
import { tsdbStatus } from './probes/tsdb-status.js';
import { monitoringRunbook } from './runbooks/monitoring.js';

export default definePack({
  name: 'prometheus',
  description: 'Prometheus: scrape target health, active alerts, rule evaluation, instant PromQL queries, TSDB cardinality and build info.',
  kind: 'integration',
  permissions,
  probes: [targets, alerts, rules, query, tsdbStatus, buildinfo],
  runbooks: [monitoringRunbook],
});
