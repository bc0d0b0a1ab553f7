import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import { createAuditExporter } from './audit/export/index.js';
import { applyRetention, scheduleRetention } from './audit/retention.js';
import { adminGuard } from './auth/require-admin.js';
import { createSessionService, type SessionService } from './auth/sessions.js';
import type { HubConfig } from './config.js';
import type { HubContext } from './context.js';
import { openHubCore, type HubCore } from './core.js';
import { installErrorHandler } from './errors.js';
import { localAttemptCounters } from './auth/rate-limit.js';
import { Cluster } from './cluster/index.js';
import { limitPerAgent } from './gateway/concurrency.js';
import { installRefusalHooks } from './auth/refusal-hooks.js';
import { RefusalLimiter } from './auth/refusals.js';
import { createAgentGateway } from './gateway/index.js';
import { integrationToolSource, IntegrationService } from './integrations/index.js';
import { mcpPlugin } from './mcp/plugin.js';
import { createHubMetrics, instrumentDispatcher, metricsRoutes } from './metrics/index.js';
import { agentRoutes } from './routes/agents.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { auditRoutes } from './routes/audit.js';
import { authRoutes } from './routes/auth.js';
import { ApiRegistry } from './routes/define.js';
import { enrollmentRoutes } from './routes/enrollment.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { integrationRoutes } from './routes/integrations.js';
import { probeRoutes } from './routes/probes.js';
import { revocationRoutes } from './routes/revocations.js';
import { uiRoutes } from './routes/ui.js';
import { userRoutes } from './routes/users.js';
import type { HubServices } from './services.js';
import { createClientSecrets, createOidcLogin, type OidcProviderConfig } from './identity/index.js';
import { createSignIn } from './identity/sign-in.js';
import { groupRoutes } from './routes/groups.js';
import { myKeyRoutes } from './routes/my-keys.js';
import { oidcRoutes } from './routes/oidc.js';
import { ssoSettingsRoutes } from './routes/sso-settings.js';
import { createOAuthService, oauthRoutes } from './oauth/index.js';
import { HUB_VERSION } from './version.js';

export const SERVER_NAME = 'sonde';
/** REST bodies are small; probe results travel over the agent socket, not here. */
const BODY_LIMIT = 256 * 1024;

/** Resolves Fastify's own dependencies, wherever the installer put them. */
const requireFromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));

/**
 * Fastify loads ajv and fast-json-stringify (a few MiB, about a fifth of the start-up CPU) when it is
 * constructed, for route JSON schemas. Hub routes validate with zod (routes/define.ts) and set no
 * Fastify schema, so the compilers load only if a route ever does. Fastify then treats them as
 * custom compilers, which only means a `headers` schema's keys are not lower-cased for it.
 */
function lazyCompilerFactory<F extends (...args: never[]) => unknown>(name: string): F {
  let factory: F | undefined;
  return ((...args: Parameters<F>) => (factory ??= (requireFromFastify(name) as () => F)())(...args)) as F;
}
type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

export interface BuildAppOptions {
  /** Test seam: overrides pino options (e.g. `false` to silence). */
  logger?: boolean | Record<string, unknown>;
  /** A core already opened for this config (serve opens it while this module loads); closed with the app. */
  core?: HubCore;
  /** SONDE_TLS=auto: the server certificate's key, generated while this module loads (else generated here). */
  tlsKeyPem?: string;
  /** Test seam: audit export poll and retry timings (defaults: 2 s poll, backoff 0.5 s doubling to 60 s). */
  auditExportTuning?: { pollMs?: number; retryBaseMs?: number; retryMaxMs?: number; batchSize?: number };
}

function httpsOptions(config: HubConfig, core: HubCore, tlsKeyPem: string | undefined): Record<string, unknown> | undefined {
  const ca = core.ca!;
  const base = { ca: [ca.certPem], requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' as const };
  // Client certificates are requested, not required: the gateway decides per request (mTLS or agent key), REST uses keys.
  if (config.tls.mode === 'files') return { ...base, cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) };
  if (config.tls.mode === 'auto') {
    const issued = ca.issueServerCert(config.tls.hostnames, tlsKeyPem);
    return { ...base, cert: issued.certPem, key: issued.keyPem };
  }
  return undefined;
}

/** Ensures the bootstrap admin (SONDE_ADMIN_USER) has a user record so sessions can refer to it. */
async function ensureBootstrapAdmin(core: HubCore, name: string): Promise<void> {
  // Under the first-boot lock: two hubs starting on an empty database create one admin, not two racing upserts.
  await core.store.exclusive(() =>
    core.store.transaction(async (tx) => {
      if (await tx.users.getByName(name)) return;
      await tx.users.upsert({
        id: randomUUID(),
        name,
        email: null,
        role: 'admin',
        enabled: true,
        createdAt: new Date().toISOString(),
        subject: null,
        displayName: null,
        origin: 'admin',
        groups: [],
        lastLoginAt: null,
      });
    }),
  );
}

/** Single sign-on: the provider flow (discovery on first use) and what a verified sign-in does to users, sessions and audit. */
function createSso(identity: OidcProviderConfig, core: HubCore, sessions: SessionService, publicUrl: () => string) {
  const clientSecrets = createClientSecrets({
    fromEnvironment: identity.clientSecret,
    settings: core.store.settings,
    sealer: core.crypto.sealer,
  });
  const login = createOidcLogin({
    config: identity,
    clientSecret: () => clientSecrets.current(),
    // Read when the first sign-in starts: with SONDE_PUBLIC_URL unset the port is known only after listen().
    get publicUrl() {
      return publicUrl();
    },
    states: core.store.loginStates,
  });
  return { login, clientSecrets, signIn: createSignIn({ login, store: core.store, audit: core.audit, sessions }) };
}

/** Store, crypto, CA and the one policy decision point: opened before Fastify exists because TLS needs the CA. */
const corePlugin = fp<{ core: HubCore }>(
  async (app, { core }) => {
    app.addHook('onClose', () => core.close());
    await Promise.resolve();
  },
  { name: 'sonde-core', fastify: '5.x' },
);

/**
 * Builds the hub: one plugin per concern. Route plugins are encapsulated and
 * read the shared HubContext (`app.hub`); the MCP plugin sees only HubServices.
 */
export async function buildApp(config: HubConfig, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const core = options.core ?? (await openHubCore({ dbPath: config.database, secret: config.secret, ca: true }));
  let app: FastifyInstance;
  try {
    await ensureBootstrapAdmin(core, config.adminUser);
    const https = httpsOptions(config, core, options.tlsKeyPem);
    app = Fastify({
      logger: options.logger ?? { level: config.logLevel },
      bodyLimit: BODY_LIMIT,
      trustProxy: config.trustProxy,
      ...(https ? { https } : {}),
      // Request ids in logs, never request headers (they carry keys).
      genReqId: () => randomUUID(),
      schemaController: {
        compilersFactory: {
          buildValidator: lazyCompilerFactory<NonNullable<CompilersFactory['buildValidator']>>('@fastify/ajv-compiler'),
          buildSerializer: lazyCompilerFactory<NonNullable<CompilersFactory['buildSerializer']>>('@fastify/fast-json-stringify-compiler'),
        },
      },
    });
  } catch (error) {
    await core.close();
    throw error;
  }
  installErrorHandler(app);
  // Refused callers per source, for every door but the login form (which keeps its own): throttle and audit budget,
  // shared by the HTTP doors (these hooks, before any route) and the agent WebSocket upgrade (the gateway).
  const refusals = new RefusalLimiter();
  installRefusalHooks(app, refusals, core.audit);
  await app.register(corePlugin, { core });

  const ca = core.ca!;
  // Multi-hub (SONDE_NATS_URL): lease, presence and hub-to-hub routing over NATS; without it nothing below changes.
  const cluster = config.cluster
    ? await Cluster.start({
        config: config.cluster,
        store: core.store,
        directory: core.directory,
        audit: core.audit,
        key: core.crypto.clusterKey,
        log: app.log,
        url: () => config.publicUrl ?? null,
      }).catch(async (error: unknown) => {
        await app.close();
        throw error;
      })
    : undefined;
  // Hubs joined over NATS count failed authentications together, as they count logins.
  if (cluster) refusals.share(cluster.limits);
  const localGateway = createAgentGateway({
    store: core.store,
    directory: core.directory,
    signingKey: ca.privateKey,
    wireKey: core.wire!.privateKey,
    audit: core.audit,
    log: app.log,
    hubVersion: HUB_VERSION,
    heartbeatIntervalMs: config.heartbeatMs,
    caCertPem: ca.certPem,
    revocations: cluster ? cluster.revocations(core.revocations) : core.revocations,
    hostNames: { publicUrl: config.publicUrl, allowedHosts: config.mcpAllowedHosts },
    refusals,
    ...(cluster ? { claims: cluster.claims, drain: { slices: 10, spreadMs: 3_000 } } : {}),
  });
  // Per-agent admission (SONDE_AGENT_MAX_RUNNING / _WAITING, default 8 and 32, then SONDE_ERR_AGENT_BUSY) on the hub
  // holding the agent, so callers on every hub share one agent's slots (a cluster sends other hubs' agents' probes to
  // their holder unadmitted here).
  const admitted = limitPerAgent(localGateway.dispatcher, localGateway.fleet, config.agentLimits);
  const gateway = cluster ? cluster.wrap(localGateway, admitted) : localGateway;
  const sessions = createSessionService(core.store);
  // Audit export: the sinks read committed entries from the database after their cursor; an append only wakes them.
  const auditExport = createAuditExporter(
    config.auditExport,
    core.store,
    app.log.child({ component: 'audit-export' }),
    options.auditExportTuning,
  );
  if (auditExport) {
    const unsubscribe = core.audit.onCommit((seq) => auditExport.notify(seq));
    // Stopped before the core closes the store (onClose hooks run last-registered first; corePlugin's was the first).
    app.addHook('onClose', async () => {
      unsubscribe();
      await auditExport.stop();
    });
    auditExport.start();
  }
  // Audit retention (SONDE_AUDIT_RETENTION_*): archive and prune hourly, never past what the export sinks acknowledged.
  const retentionPolicy = config.auditRetention;
  const auditRetention = retentionPolicy
    ? scheduleRetention(
        async () => {
          const results = await applyRetention(core.audit, core.store, core.crypto.auditKey, retentionPolicy, {
            exportedUpTo: auditExport?.acknowledgedUpTo(),
          });
          for (const result of results) {
            await core.audit.append({
              action: 'audit.prune',
              actor: { kind: 'system', id: null, name: 'retention' },
              status: 'ok',
              resultBytes: result.bytes,
              detail: `entries ${result.fromSeq}-${result.toSeq} archived to ${path.basename(result.file)} and pruned`,
            });
          }
          return results;
        },
        app.log.child({ component: 'audit-retention' }),
      )
    : undefined;
  // Registered after the export's hook, so it runs before it (last-registered first) and before the store closes.
  if (auditRetention) app.addHook('onClose', () => auditRetention.stop());
  const metrics = createHubMetrics({ fleet: gateway.fleet, audit: core.audit, exportSinks: () => auditExport?.status() ?? [] });
  app.addHook('onClose', () => Promise.resolve(metrics.close()));
  const scheme = config.tls.mode === 'off' ? 'http' : 'https';
  const services: HubServices = {
    pdp: core.pdp,
    fleet: gateway.fleet,
    // Counted and timed as callers see it.
    dispatcher: instrumentDispatcher(cluster ? gateway.dispatcher : admitted, metrics),
    audit: core.audit,
    authenticateApiKey: (rawKey) => core.apiKeys.authenticateUser(rawKey),
    config: {
      mcpMaxTools: config.mcpMaxTools,
      serverName: SERVER_NAME,
      hubVersion: HUB_VERSION,
      // Known only after listen() when SONDE_PUBLIC_URL is unset (port 0 in tests).
      get publicUrl(): string {
        if (config.publicUrl) return config.publicUrl;
        const address = app.server.address() as AddressInfo | null;
        const host = config.host.includes(':') ? `[${config.host}]` : config.host;
        return `${scheme}://${host}:${address?.port ?? config.port}`;
      },
    },
  };
  const integrations = createIntegrations(config, core, app);
  if (cluster) {
    // An install, approval, removal or instance change on any hub: every other hub loads its integrations again.
    integrations.onChange = () => cluster.bus.broadcast('integrations', {});
    cluster.bus.on('integrations', () => {
      integrations.load('reload').catch((err: unknown) => app.log.error({ err }, 'integration reload after another hub’s change failed'));
    });
  }
  const sso = config.identity ? createSso(config.identity, core, sessions, () => services.config.publicUrl) : undefined;
  const context: HubContext = {
    config,
    core,
    ca,
    services,
    gateway,
    cluster,
    sessions,
    limits: cluster ? cluster.limits : localAttemptCounters,
    sso,
    api: new ApiRegistry(),
    requireAdmin: adminGuard(core.apiKeys, sessions, core.pdp),
    secureCookies: config.tls.mode !== 'off' || (config.publicUrl?.startsWith('https://') ?? false),
    startedAt: Date.now(),
    integrations,
    auditExport,
    auditRetention,
  };
  app.decorate('sonde', services);
  app.decorate('hub', context);

  await gateway.register(app);
  await app.register(healthRoutes);
  await app.register(metricsRoutes, {
    metrics,
    token: config.metricsToken,
    auditQueueDepth: () => core.audit.queueDepth(),
    probeDatabase: () => core.store.audit.last(),
  });
  await app.register(authRoutes);
  await app.register(enrollmentRoutes);
  await app.register(agentRoutes);
  await app.register(revocationRoutes);
  await app.register(apiKeyRoutes);
  await app.register(userRoutes);
  await app.register(groupRoutes);
  await app.register(oidcRoutes);
  await app.register(ssoSettingsRoutes);
  await app.register(myKeyRoutes);
  await app.register(auditRoutes);
  await app.register(probeRoutes);
  await app.register(integrationRoutes);
  await app.register(eventRoutes);
  // The dashboard's files (web-components/dist): the page talks to the routes above like any other client.
  await app.register(uiRoutes);
  // MCP authorization (hub/src/oauth): the hub as the OAuth authorization server its MCP clients sign in through.
  const oauth = config.oauth.enabled
    ? createOAuthService({
        config: config.oauth,
        publicUrl: () => services.config.publicUrl,
        store: core.store,
        audit: core.audit,
        secret: core.crypto.mcpSessionKey,
        sealer: core.crypto.sealer,
        trustProxy: config.trustProxy,
        log: app.log,
      })
    : undefined;
  if (oauth) await app.register(oauthRoutes(oauth));
  // Derived from SONDE_SECRET so client tokens survive a restart and work on every hub sharing the secret.
  await app.register(mcpPlugin, {
    services,
    sessionSecret: core.crypto.mcpSessionKey,
    integrations: integrationToolSource(integrations),
    oauth,
    hostCheck: { publicUrl: config.publicUrl, allowedHosts: config.mcpAllowedHosts },
  });
  await startIntegrations(integrations, app);
  return app;
}

/** Integration packs: verified and loaded before the hub listens; their processes end with it. */
function createIntegrations(config: HubConfig, core: HubCore, app: FastifyInstance): IntegrationService {
  const db = path.resolve(config.dbPath);
  return new IntegrationService({
    store: core.store,
    sealer: core.crypto.sealer,
    audit: core.audit,
    log: app.log,
    trustFile: config.integrations.trustFile,
    packsDir: config.integrations.packsDir,
    // The broker refuses these whatever a pack declares: the database (and its WAL), the TLS key, the trust store.
    deniedPaths: [
      db,
      `${db}-wal`,
      `${db}-shm`,
      config.integrations.trustFile,
      ...(config.tls.mode === 'files' ? [config.tls.keyFile] : []),
    ],
    // The hub-signed revocation list applies to the hub's own packs too, at once.
    revocations: core.revocations,
  });
}

async function startIntegrations(integrations: IntegrationService, app: FastifyInstance): Promise<void> {
  app.addHook('onClose', () => integrations.close());
  try {
    await integrations.start();
  } catch (error) {
    // A packs folder the hub cannot prepare leaves every integration pack unloaded; the rest of the hub still serves.
    app.log.error({ err: error, packsDir: integrations.packsDir }, 'integration packs not loaded');
  }
}
