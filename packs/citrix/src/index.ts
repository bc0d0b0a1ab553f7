import { definePack } from '@sonde/pack-sdk';
import { API_PATHS, TOKEN_PATH } from './api.js';
import { deliveryGroupsList } from './probes/delivery-groups-list.js';
import { machinesUnregistered } from './probes/machines-unregistered.js';
import { sessionsSummary } from './probes/sessions-summary.js';
import { sitesList } from './probes/sites-list.js';
import { vdiHealthRunbook } from './runbooks/vdi-health.js';

const paths = [TOKEN_PATH, ...API_PATHS];

export default definePack({
  name: 'citrix',
  description:
    'Citrix DaaS / Virtual Apps and Desktops: sites, unregistered VDAs, delivery groups and session counts over the CVAD REST API (read-only).',
  kind: 'integration',
  permissions: {
    network: [
      { host: '{endpoint}', protocol: 'https', paths },
      { host: '{endpoint}', protocol: 'http', paths },
    ],
    credentials: [
      { name: 'customerId', description: 'Citrix Cloud customer id (Citrix-CustomerId header).' },
      {
        name: 'clientId',
        description: 'Citrix Cloud API client id (Identity and Access Management > API Access), read-only administrator.',
      },
      { name: 'clientSecret', description: 'Secret of that API client; exchanged for a bearer token on each probe call.' },
      { name: 'bearerToken', description: 'Optional ready-made bearer token, used instead of clientId/clientSecret.' },
      {
        name: 'siteId',
        description: "Optional DaaS site id (Citrix-InstanceId); default: the customer's first site from /cvad/manage/me.",
      },
    ],
  },
  probes: [machinesUnregistered, sessionsSummary, deliveryGroupsList, sitesList],
  runbooks: [vdiHealthRunbook],
});
