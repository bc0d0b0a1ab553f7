import fp from 'fastify-plugin';
import type { HubContext } from '../context.js';

/**
 * The REST areas' shared view (`app.hub`, context.ts), assembled from what the foundation plugins decorate. Route
 * modules read it; new code reads the named decorations (`app.core`, `app.auth`, `app.gateway`, …) it depends on.
 */
export const contextPlugin = fp(
  async (app) => {
    const context: HubContext = {
      config: app.hubConfig,
      core: app.core,
      ca: app.core.ca!,
      services: app.sonde,
      gateway: app.gateway,
      cluster: app.cluster,
      sessions: app.auth.sessions,
      limits: app.auth.limits,
      sso: app.auth.sso,
      api: app.api,
      requireAdmin: app.auth.requireAdmin,
      secureCookies: app.auth.secureCookies,
      startedAt: Date.now(),
      integrations: app.integrations,
      auditExport: app.auditExport,
      auditRetention: app.auditRetention,
    };
    app.decorate('hub', context);
    await Promise.resolve();
  },
  {
    name: 'sonde-context',
    fastify: '5.x',
    dependencies: [
      'sonde-core',
      'sonde-cluster',
      'sonde-gateway',
      'sonde-audit-export',
      'sonde-services',
      'sonde-auth',
      'sonde-integrations',
      'sonde-api',
    ],
  },
);
