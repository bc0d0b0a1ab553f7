import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyServerOptions } from 'fastify';
import type { HubConfig } from './config.js';
import { openHubCore, type HubCore } from './core.js';
import { installErrorHandler } from './errors.js';
import {
  agentsArea,
  auditArea,
  authArea,
  dashboardArea,
  enrollmentArea,
  eventsArea,
  healthArea,
  integrationsArea,
  keysArea,
  mcpArea,
  oauthArea,
  packsArea,
} from './plugins/areas.js';
import { apiPlugin } from './plugins/api.js';
import { authPlugin } from './plugins/auth.js';
import { installHeadRoutes } from './plugins/head-routes.js';
import {
  agentSocketPlugin,
  auditExportPlugin,
  auditRetentionPlugin,
  clusterPlugin,
  corePlugin,
  gatewayPlugin,
  metricsPlugin,
  refusalsPlugin,
  servicesPlugin,
} from './plugins/foundation.js';
import { integrationsPlugin } from './plugins/integrations.js';

export { SERVER_NAME } from './plugins/foundation.js';
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
  /** Test seam: more areas, registered after the hub's own like one of them (hub/test/route-auth.test.ts). */
  areas?: FastifyPluginAsync[];
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

/**
 * Builds the hub: Fastify with its TLS, then one plugin per concern (hub/src/plugins), each declaring the plugins it
 * depends on. The foundation decorates the root instance (`core`, `cluster`, `gateway`, `auth`, `integrations`, `sonde`,
 * `api`, …); the areas are encapsulated and read only the decorations they declare; the MCP plugin sees only HubServices.
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
      // HEAD only where load balancers, browsers and discovery clients send it (plugins/head-routes.ts), not a twin of every GET.
      exposeHeadRoutes: false,
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
  installHeadRoutes(app);
  try {
    // The foundation (plugins/foundation.ts, auth.ts, integrations.ts, api.ts): each plugin names what it needs.
    await app.register(corePlugin, { core, config });
    await app.register(clusterPlugin);
    await app.register(refusalsPlugin);
    await app.register(gatewayPlugin);
    await app.register(auditExportPlugin, { tuning: options.auditExportTuning });
    await app.register(auditRetentionPlugin);
    await app.register(metricsPlugin);
    await app.register(servicesPlugin);
    await app.register(authPlugin);
    await app.register(integrationsPlugin);
    await app.register(apiPlugin);
    await app.register(agentSocketPlugin);
    // What the hub serves, one area per concern (plugins/areas.ts).
    await app.register(healthArea);
    await app.register(authArea);
    await app.register(keysArea);
    await app.register(enrollmentArea);
    await app.register(agentsArea);
    await app.register(packsArea);
    await app.register(auditArea);
    await app.register(integrationsArea);
    await app.register(eventsArea);
    await app.register(dashboardArea);
    await app.register(oauthArea);
    await app.register(mcpArea);
    for (const area of options.areas ?? []) await app.register(area);
  } catch (error) {
    // A plugin that cannot start (NATS unreachable, a packs folder…) closes what the ones before it opened, the core too.
    await app.close();
    throw error;
  }
  return app;
}
