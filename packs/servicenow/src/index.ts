import { definePack } from '@sonde/pack-sdk';
import { TABLE_PATHS } from './api.js';
import { changesUpcoming } from './probes/changes-upcoming.js';
import { cmdbCiLookup } from './probes/cmdb-ci-lookup.js';
import { incidentGet } from './probes/incident-get.js';
import { incidentsOpen } from './probes/incidents-open.js';
import { itsmRunbook } from './runbooks/itsm.js';

export default definePack({
  name: 'servicenow',
  description: 'ServiceNow: open incidents, one incident by number, upcoming changes and CMDB lookups over the Table API (read-only).',
  kind: 'integration',
  permissions: {
    network: [
      { host: '{endpoint}', protocol: 'https', paths: TABLE_PATHS },
      { host: '{endpoint}', protocol: 'http', paths: TABLE_PATHS },
    ],
    credentials: [
      {
        name: 'username',
        description: 'Basic auth user (with password); give it the itil role or read ACLs on incident, change_request and cmdb_ci.',
      },
      { name: 'password', description: 'Password of that user.' },
      { name: 'token', description: 'OAuth 2.0 access token; used instead of username/password when set.' },
    ],
  },
  probes: [incidentsOpen, incidentGet, changesUpcoming, cmdbCiLookup],
  runbooks: [itsmRunbook],
});
