import type { PermissionsInput } from '@sonde/pack-sdk';
import { API_PATHS } from './api.js';

const paths = Object.values(API_PATHS);

export const permissions: PermissionsInput = {
  // The configured endpoint only, and only the read-only API paths the probes use.
  network: [
    { host: '{endpoint}', protocol: 'https', paths },
    { host: '{endpoint}', protocol: 'http', paths },
  ],
  credentials: [
    {
      name: 'bearerToken',
      description: 'Optional bearer token, when Prometheus sits behind an authenticating proxy. Sent only over https or to loopback.',
    },
  ],
};
