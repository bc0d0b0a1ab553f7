import { definePack } from '@sonde/pack-sdk';
import { permissions } from './permissions.js';
import { accessTail } from './probes/access-tail.js';
import { configTest } from './probes/config-test.js';
import { errorTail } from './probes/error-tail.js';
import { status } from './probes/status.js';
import { version } from './probes/version.js';
import { healthRunbook } from './runbooks/health.js';

export default definePack({
  name: 'nginx',
  description: 'nginx: configuration test, access and error log tails with structured parsing, stub_status and build info',
  kind: 'system',
  detect: { commands: ['nginx'], files: ['/etc/nginx/nginx.conf'], services: ['nginx'] },
  permissions,
  probes: [configTest, accessTail, errorTail, status, version],
  runbooks: [healthRunbook],
});
