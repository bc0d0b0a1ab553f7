import type { AddressInfo } from 'node:net';
import path from 'node:path';
import fp from 'fastify-plugin';
import { createAuditExporter, type AuditExporter } from '../audit/export/index.js';
import { applyRetention, scheduleRetention, type RetentionSchedule } from '../audit/retention.js';
import { installRefusalHooks } from '../auth/refusal-hooks.js';
import { RefusalLimiter } from '../auth/refusals.js';
import type { Cluster } from '../cluster/index.js';
import type { HubConfig } from '../config.js';
import type { HubCore } from '../core.js';
import { limitPerAgent } from '../gateway/concurrency.js';
import { createAgentGateway } from '../gateway/index.js';
import type { AgentGateway } from '../gateway/types.js';
import { createHubMetrics, instrumentDispatcher, type HubMetrics } from '../metrics/index.js';
import type { HubServices, ProbeDispatcher } from '../services.js';
import { HUB_VERSION } from '../version.js';

/**
 * The hub's foundation, one fastify-plugin per concern, each naming the plugins it needs (Fastify refuses to start
 * when one is missing or registered after it). They decorate the root instance, so the concern plugins registered
 * after them (REST areas, MCP, OAuth) read what they declare they depend on.
 */

export const SERVER_NAME = 'sonde';

declare module 'fastify' {
  interface FastifyInstance {
    hubConfig: HubConfig;
    /** Store, crypto, CA, audit log, keys and the policy decision point (core.ts). */
    core: HubCore;
    /** Multi-hub over NATS (hub/src/cluster), when SONDE_NATS_URL is set. */
    cluster: Cluster | undefined;
    /** Refused callers per source: throttle and audit budget (hub/src/auth/refusals.ts). */
    refusals: RefusalLimiter;
    /** The agents' WebSocket gateway: this hub's connections, or the cluster's view of every hub's. */
    gateway: AgentGateway;
    /** Probe routing with per-agent admission, before metrics instrument it. */
    admittedDispatcher: ProbeDispatcher;
    /** Audit export to syslog, a webhook and/or OTLP (hub/src/audit/export), when any sink is configured. */
    auditExport: AuditExporter | undefined;
    /** Audit retention (hub/src/audit/retention.ts), when SONDE_AUDIT_RETENTION_DAYS or _ROWS is set. */
    auditRetention: RetentionSchedule | undefined;
    hubMetrics: HubMetrics;
    /** The MCP seam (services.ts): fleet view, instrumented dispatcher and public URL, with core's pdp and audit lent. */
    sonde: HubServices;
  }
}

/** Store, crypto, CA and the one policy decision point: opened before Fastify exists because TLS needs the CA. */
export const corePlugin = fp<{ core: HubCore; config: HubConfig }>(
  async (app, { core, config }) => {
    app.decorate('hubConfig', config);
    app.decorate('core', core);
    app.addHook('onClose', () => core.close());
    await Promise.resolve();
  },
  { name: 'sonde-core', fastify: '5.x' },
);

/** Multi-hub (SONDE_NATS_URL): lease, presence and hub-to-hub routing over NATS; without it nothing else changes. */
export const clusterPlugin = fp(
  async (app) => {
    const { core, hubConfig: config } = app;
    const cluster = config.cluster
      ? // Loaded only here: a single hub does not load the NATS client and JetStream at start.
        await (
          await import('../cluster/index.js')
        ).Cluster.start({
          config: config.cluster,
          store: core.store,
          directory: core.directory,
          audit: core.audit,
          key: core.crypto.clusterKey,
          log: app.log,
          url: () => config.publicUrl ?? null,
        })
      : undefined;
    app.decorate('cluster', cluster);
  },
  { name: 'sonde-cluster', fastify: '5.x', dependencies: ['sonde-core'] },
);

/**
 * Refused callers per source, for every door but the login form (which keeps its own): throttle and audit budget,
 * shared by the HTTP doors (these hooks, on the root before any route) and the agent WebSocket upgrade (the gateway).
 */
export const refusalsPlugin = fp(
  async (app) => {
    const refusals = new RefusalLimiter();
    installRefusalHooks(app, refusals, app.core.audit);
    // Hubs joined over NATS count failed authentications together, as they count logins.
    if (app.cluster) refusals.share(app.cluster.limits);
    app.decorate('refusals', refusals);
    await Promise.resolve();
  },
  { name: 'sonde-refusals', fastify: '5.x', dependencies: ['sonde-core', 'sonde-cluster'] },
);

/**
 * The agent gateway and probe routing. The socket (`/ws/agent`) is attached by agentSocketPlugin, after the routes'
 * shared state exists, so its close hooks keep their place.
 */
export const gatewayPlugin = fp(
  async (app) => {
    const { core, hubConfig: config, cluster } = app;
    const ca = core.ca!;
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
      refusals: app.refusals,
      admissionMax: config.agentAdmissionMax,
      ...(cluster ? { claims: cluster.claims, drain: { slices: 10, spreadMs: 3_000 } } : {}),
    });
    // Per-agent admission (SONDE_AGENT_MAX_RUNNING / _WAITING, default 8 and 32, then SONDE_ERR_AGENT_BUSY) on the hub
    // holding the agent, so callers on every hub share one agent's slots (a cluster sends other hubs' agents' probes to
    // their holder unadmitted here).
    const admitted = limitPerAgent(localGateway.dispatcher, localGateway.fleet, config.agentLimits);
    const gateway = cluster ? cluster.wrap(localGateway, admitted) : localGateway;
    app.decorate('gateway', gateway);
    app.decorate('admittedDispatcher', cluster ? gateway.dispatcher : admitted);
    await Promise.resolve();
  },
  { name: 'sonde-gateway', fastify: '5.x', dependencies: ['sonde-core', 'sonde-cluster', 'sonde-refusals'] },
);

/** Audit export: the sinks read committed entries from the database after their cursor; an append only wakes them. */
export const auditExportPlugin = fp<{ tuning?: Parameters<typeof createAuditExporter>[3] }>(
  async (app, { tuning }) => {
    const { core } = app;
    const auditExport = createAuditExporter(app.hubConfig.auditExport, core.store, app.log.child({ component: 'audit-export' }), tuning);
    if (auditExport) {
      const unsubscribe = core.audit.onCommit((seq) => auditExport.notify(seq));
      // Stopped before the core closes the store (onClose hooks run last-registered first; sonde-core's was the first).
      app.addHook('onClose', async () => {
        unsubscribe();
        await auditExport.stop();
      });
      auditExport.start();
    }
    app.decorate('auditExport', auditExport);
    await Promise.resolve();
  },
  { name: 'sonde-audit-export', fastify: '5.x', dependencies: ['sonde-core'] },
);

/** Audit retention (SONDE_AUDIT_RETENTION_*): archive and prune hourly, never past what the export sinks acknowledged. */
export const auditRetentionPlugin = fp(
  async (app) => {
    const { core, auditExport } = app;
    const retentionPolicy = app.hubConfig.auditRetention;
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
    app.decorate('auditRetention', auditRetention);
    await Promise.resolve();
  },
  { name: 'sonde-audit-retention', fastify: '5.x', dependencies: ['sonde-core', 'sonde-audit-export'] },
);

/** Prometheus metrics of the fleet, the audit log and probe calls (the routes are in the metrics/health area). */
export const metricsPlugin = fp(
  async (app) => {
    const metrics = createHubMetrics({
      fleet: app.gateway.fleet,
      audit: app.core.audit,
      exportSinks: () => app.auditExport?.status() ?? [],
      admission: () => app.gateway.admission(),
    });
    app.addHook('onClose', () => Promise.resolve(metrics.close()));
    app.decorate('hubMetrics', metrics);
    await Promise.resolve();
  },
  { name: 'sonde-metrics', fastify: '5.x', dependencies: ['sonde-gateway', 'sonde-audit-export'] },
);

/** The seams the MCP layer and the REST routes are written against (services.ts), decorated as `sonde`. */
export const servicesPlugin = fp(
  async (app) => {
    const { core, hubConfig: config } = app;
    const scheme = config.tls.mode === 'off' ? 'http' : 'https';
    const services: HubServices = {
      pdp: core.pdp,
      fleet: app.gateway.fleet,
      // Counted and timed as callers see it.
      dispatcher: instrumentDispatcher(app.admittedDispatcher, app.hubMetrics),
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
    app.decorate('sonde', services);
    await Promise.resolve();
  },
  { name: 'sonde-services', fastify: '5.x', dependencies: ['sonde-core', 'sonde-gateway', 'sonde-metrics'] },
);

/** Attaches `/ws/agent` to the server's upgrade event; its preClose ends the agents' sockets before Fastify closes. */
export const agentSocketPlugin = fp(
  async (app) => {
    await app.gateway.register(app);
  },
  { name: 'sonde-agent-socket', fastify: '5.x', dependencies: ['sonde-gateway'] },
);
