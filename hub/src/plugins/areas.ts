import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { integrationToolSource } from '../integrations/index.js';
import { mcpPlugin } from '../mcp/plugin.js';
import { metricsRoutes } from '../metrics/index.js';
import { createOAuthService, oauthRoutes, type OAuthService } from '../oauth/index.js';
import { agentRoutes } from '../routes/agents.js';
import { apiKeyRoutes } from '../routes/api-keys.js';
import { auditRoutes } from '../routes/audit.js';
import { authRoutes } from '../routes/auth.js';
import { enrollmentRoutes } from '../routes/enrollment.js';
import { eventRoutes } from '../routes/events.js';
import { groupRoutes } from '../routes/groups.js';
import { healthRoutes } from '../routes/health.js';
import { integrationRoutes } from '../routes/integrations.js';
import { myKeyRoutes } from '../routes/my-keys.js';
import { oidcRoutes } from '../routes/oidc.js';
import { probeRoutes } from '../routes/probes.js';
import { revocationRoutes } from '../routes/revocations.js';
import { ssoSettingsRoutes } from '../routes/sso-settings.js';
import { uiRoutes } from '../routes/ui.js';
import { userRoutes } from '../routes/users.js';

/**
 * The hub's served areas, one plugin per concern. Each is encapsulated (its hooks and routes stay its own) and names
 * the plugins whose decorations its route modules read (foundation.ts, auth.ts, integrations.ts, api.ts), so the
 * order they need is checked by Fastify at start instead of living in one long function. Every REST area depends on
 * `sonde-api` (the route registry defineRoute adds to) and `sonde-auth` (which attaches each route's declared
 * authentication as its onRequest hook): registered without them, its routes would not exist.
 */

declare module 'fastify' {
  interface FastifyInstance {
    /** The hub as the OAuth authorization server for MCP clients (hub/src/oauth), when enabled. */
    oauth: OAuthService | undefined;
  }
}

function area(name: string, dependencies: string[], routes: FastifyPluginAsync[]) {
  return fp(
    async (app) => {
      for (const plugin of routes) await app.register(plugin);
    },
    { name, fastify: '5.x', dependencies: ['sonde-api', 'sonde-auth', ...dependencies], encapsulate: true },
  );
}

/** Liveness and readiness, and the Prometheus metrics. */
export const healthArea = fp(
  async (app) => {
    await app.register(healthRoutes);
    await app.register(metricsRoutes, {
      metrics: app.hubMetrics,
      token: app.hubConfig.metricsToken,
      auditQueueDepth: () => app.core.audit.queueDepth(),
      probeDatabase: () => app.core.store.audit.last(),
    });
  },
  {
    name: 'sonde-area-health',
    fastify: '5.x',
    dependencies: ['sonde-api', 'sonde-auth', 'sonde-core', 'sonde-metrics'],
    encapsulate: true,
  },
);

/** Sign-in (password, single sign-on), sessions, users and the groups that may sign in. */
export const authArea = area(
  'sonde-area-auth',
  ['sonde-core', 'sonde-services'],
  [authRoutes, oidcRoutes, ssoSettingsRoutes, userRoutes, groupRoutes],
);
/** API keys: an admin's for everyone, and each user's own. */
export const keysArea = area('sonde-area-keys', ['sonde-core', 'sonde-gateway', 'sonde-services'], [apiKeyRoutes, myKeyRoutes]);
/** Enrollment tokens and agent enrollment (CSR in, certificate and agent key out). */
export const enrollmentArea = area('sonde-area-enrollment', ['sonde-core', 'sonde-gateway', 'sonde-services'], [enrollmentRoutes]);
/** The fleet: agents, their attestation and pack approvals, and probe runs over REST. */
export const agentsArea = area('sonde-area-agents', ['sonde-core', 'sonde-gateway', 'sonde-services'], [agentRoutes, probeRoutes]);
/** The hub-signed pack revocation list. */
export const packsArea = area('sonde-area-packs', ['sonde-core'], [revocationRoutes]);
/** The audit log: read, verify, export status. */
export const auditArea = area('sonde-area-audit', ['sonde-core', 'sonde-audit-export'], [auditRoutes]);
/** Integration packs and instances the hub runs itself. */
export const integrationsArea = area('sonde-area-integrations', ['sonde-integrations'], [integrationRoutes]);
/** The live event stream and the embeddable views that follow it. */
export const eventsArea = area('sonde-area-events', ['sonde-core', 'sonde-services', 'sonde-integrations'], [eventRoutes]);
/** The dashboard's files (web-components/dist): the page talks to the routes above like any other client. */
export const dashboardArea = area('sonde-area-dashboard', ['sonde-core'], [uiRoutes]);

/** MCP authorization (hub/src/oauth): the hub as the OAuth authorization server its MCP clients sign in through. */
export const oauthArea = fp(
  async (app) => {
    const { core, hubConfig: config } = app;
    const oauth = config.oauth.enabled
      ? createOAuthService({
          config: config.oauth,
          publicUrl: () => app.sonde.config.publicUrl,
          store: core.store,
          audit: core.audit,
          secret: core.crypto.mcpSessionKey,
          sealer: core.crypto.sealer,
          trustProxy: config.trustProxy,
          log: app.log,
        })
      : undefined;
    app.decorate('oauth', oauth);
    if (oauth) await app.register(oauthRoutes(oauth));
  },
  { name: 'sonde-oauth', fastify: '5.x', dependencies: ['sonde-api', 'sonde-auth', 'sonde-core', 'sonde-services'] },
);

/** `/mcp`: the MCP server; it sees only HubServices, the integration tool source and OAuth's resource side. */
export const mcpArea = fp(
  async (app) => {
    const { core, hubConfig: config } = app;
    await app.register(mcpPlugin, {
      services: app.sonde,
      // Derived from SONDE_SECRET so client tokens survive a restart and work on every hub sharing the secret.
      sessionSecret: core.crypto.mcpSessionKey,
      integrations: integrationToolSource(app.integrations),
      oauth: app.oauth,
      hostCheck: { publicUrl: config.publicUrl, allowedHosts: config.mcpAllowedHosts },
    });
  },
  { name: 'sonde-mcp', fastify: '5.x', dependencies: ['sonde-services', 'sonde-integrations', 'sonde-oauth'], encapsulate: true },
);
