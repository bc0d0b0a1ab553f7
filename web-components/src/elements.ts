import { SondeProvider } from './components/provider/provider.component.js';
import { SondeApp } from './components/app/app.component.js';
import { SondeHealthBadge } from './components/health-badge/health-badge.component.js';
import { SondeFleet } from './components/fleet/fleet.component.js';
import { SondeAgent } from './components/agent/agent.component.js';
import { SondeProbe } from './components/probe/probe.component.js';
import { SondeApiKeys } from './components/api-keys/api-keys.component.js';
import { SondeEnrollment } from './components/enrollment/enrollment.component.js';
import { SondeAuditLog } from './components/audit-log/audit-log.component.js';
import { SondeUsers } from './components/users/users.component.js';
import { SondeIntegrations } from './components/integrations/integrations.component.js';
import { SondePacks } from './components/packs/packs.component.js';
import { SondeTrends } from './components/trends/trends.component.js';
import { SondeConnectedApps } from './components/connected-apps/connected-apps.component.js';
import type { SondeElement } from './internal/sonde-element.js';

/**
 * Every element by its tag suffix, in registration order: the provider and the
 * app first, so elements inside them find their hub client as they upgrade.
 */
export const ELEMENTS: Record<string, typeof SondeElement> = {
  provider: SondeProvider,
  app: SondeApp,
  'health-badge': SondeHealthBadge,
  fleet: SondeFleet,
  agent: SondeAgent,
  probe: SondeProbe,
  'api-keys': SondeApiKeys,
  enrollment: SondeEnrollment,
  'audit-log': SondeAuditLog,
  users: SondeUsers,
  integrations: SondeIntegrations,
  packs: SondePacks,
  trends: SondeTrends,
  'connected-apps': SondeConnectedApps,
};
