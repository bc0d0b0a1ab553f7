import { definePack } from '@sonde/pack-sdk';
import { get } from './probes/get.js';
import { health } from './probes/health.js';
import { availabilityRunbook } from './runbooks/availability.js';

/**
 * The reference integration pack: the smallest complete example of reaching a
 * product only through ctx.http on the configured endpoint.
 */
export default definePack({
  name: 'http',
  description: 'Generic HTTP endpoint: typed JSON reads of a path and a health check with status and latency.',
  kind: 'integration',
  permissions: {
    // Any path, but only on the operator-configured endpoint; a product pack narrows `paths` to its API.
    network: [
      { host: '{endpoint}', protocol: 'https', paths: ['/**'] },
      { host: '{endpoint}', protocol: 'http', paths: ['/**'] },
    ],
    credentials: [
      { name: 'bearerToken', description: 'Optional bearer token sent as Authorization: Bearer; only over https or to loopback.' },
    ],
  },
  probes: [get, health],
  runbooks: [availabilityRunbook],
});
