import { definePack } from '@sonde/pack-sdk';
import { probe } from './probe.js';

export default definePack({
  name: '{{packName}}',
  // No version here: package.json's is the pack's (`npm run build` writes it into sonde-pack.json).
  description: 'Health of a service reached over its HTTP API.',
  kind: 'integration',
  permissions: {
    // Only the operator-configured endpoint, and only the paths the probes use.
    network: [
      { host: '{endpoint}', protocol: 'https', paths: ['/api/health'] },
      { host: '{endpoint}', protocol: 'http', paths: ['/api/health'] },
    ],
    credentials: [{ name: 'apiToken', description: 'API token sent as Authorization: Bearer (only over https or to loopback).' }],
  },
  probes: [probe],
});
