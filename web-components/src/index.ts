/**
 * Side-effect-free entry: the element classes, the registration function, the
 * hub client. Importing it registers nothing; call `defineSonde()` (or load
 * `define.js` / the `sonde.js` bundle, which do).
 */
export { defineSonde, type DefineOptions } from './define.js';
export { ELEMENTS } from './elements.js';
export { HubClient, HubRequestError, type HubClientOptions } from './controllers/hub-client.js';
export { hubClientContext } from './controllers/context.js';
export { SondeElement } from './internal/sonde-element.js';
export { SondeProvider } from './components/provider/provider.component.js';
export { SondeApp } from './components/app/app.component.js';
export { SondeHealthBadge } from './components/health-badge/health-badge.component.js';
export { SondeFleet } from './components/fleet/fleet.component.js';
export { SondeAgent } from './components/agent/agent.component.js';
export { SondeProbe } from './components/probe/probe.component.js';
export { SondeApiKeys } from './components/api-keys/api-keys.component.js';
export { SondeEnrollment } from './components/enrollment/enrollment.component.js';
export { SondeAuditLog } from './components/audit-log/audit-log.component.js';
export { SondeUsers } from './components/users/users.component.js';
export { SondeConnectedApps, type ConsentView } from './components/connected-apps/connected-apps.component.js';
export { SondeIntegrations } from './components/integrations/integrations.component.js';
export { SondePacks } from './components/packs/packs.component.js';
export { SondeTrends } from './components/trends/trends.component.js';
export type * from './events/index.js';
export { VERSION } from './version.js';
