import path from 'node:path';
import Fastify, { type FastifyPluginAsync, type FastifyPluginCallback } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { openHubCore } from '../src/core.js';
import { agentsArea, healthArea, mcpArea } from '../src/plugins/areas.js';
import { authPlugin } from '../src/plugins/auth.js';
import { apiPlugin } from '../src/plugins/api.js';
import { gatewayPlugin } from '../src/plugins/foundation.js';
import { startTestHub, tempDir, testConfig } from './helpers.js';

const tmp = tempDir('sonde-plugins-');
afterAll(() => tmp.cleanup());

/** The error Fastify gives when `plugin` is registered on an instance that lacks what it declares it depends on. */
async function registerAlone(plugin: FastifyPluginAsync | FastifyPluginCallback): Promise<string> {
  const app = Fastify({ logger: false });
  try {
    await app.register(plugin);
    return 'registered';
  } catch (error) {
    return (error as Error).message;
  } finally {
    await app.close().catch(() => undefined);
  }
}

describe('the hub is composed of one plugin per concern (hub/src/plugins)', () => {
  it('each plugin names what it depends on, and Fastify refuses it without them', async () => {
    expect(await registerAlone(gatewayPlugin)).toBe("The dependency 'sonde-core' of plugin 'sonde-gateway' is not registered");
    expect(await registerAlone(authPlugin)).toBe("The dependency 'sonde-core' of plugin 'sonde-auth' is not registered");
    expect(await registerAlone(apiPlugin)).toBe("The dependency 'sonde-core' of plugin 'sonde-api' is not registered");
    // Every REST area needs the route registry and the plugin that attaches each route's authentication.
    expect(await registerAlone(agentsArea)).toBe("The dependency 'sonde-api' of plugin 'sonde-area-agents' is not registered");
    expect(await registerAlone(healthArea)).toBe("The dependency 'sonde-api' of plugin 'sonde-area-health' is not registered");
    expect(await registerAlone(mcpArea)).toBe("The dependency 'sonde-services' of plugin 'sonde-mcp' is not registered");
  });

  it('a built hub has every concern registered and one set of shared objects, decorated on the root', async () => {
    const hub = await startTestHub();
    try {
      const { app } = hub;
      for (const name of [
        'sonde-core',
        'sonde-cluster',
        'sonde-refusals',
        'sonde-gateway',
        'sonde-audit-export',
        'sonde-audit-retention',
        'sonde-metrics',
        'sonde-services',
        'sonde-auth',
        'sonde-integrations',
        'sonde-api',
        'sonde-agent-socket',
        'sonde-area-health',
        'sonde-area-auth',
        'sonde-area-keys',
        'sonde-area-enrollment',
        'sonde-area-agents',
        'sonde-area-packs',
        'sonde-area-audit',
        'sonde-area-integrations',
        'sonde-area-events',
        'sonde-area-dashboard',
        'sonde-oauth',
        'sonde-mcp',
      ])
        expect(app.hasPlugin(name), name).toBe(true);
      // One set of objects, each with one owner: the MCP seam (HubServices) lends core's policy point and audit log,
      // and no pre-built view of the whole hub is passed around (no app.hub service locator).
      expect(app.sonde.pdp).toBe(app.core.pdp);
      expect(app.sonde.audit).toBe(app.core.audit);
      expect(app.sonde.fleet).toBe(app.gateway.fleet);
      expect(app.hasDecorator('hub')).toBe(false);
      expect(app.api.routes.length).toBeGreaterThan(50);
      expect(app.cluster).toBeUndefined();
      expect(Boolean(app.oauth)).toBe(hub.config.oauth.enabled);
      // Each area answers its own routes.
      expect((await app.inject({ method: 'GET', url: '/api/v1/health' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/api/v1/agents', headers: hub.auth() })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/api/v1/integrations/packs', headers: hub.auth() })).statusCode).toBe(200);
    } finally {
      await hub.close();
    }
  });

  it('a plugin that cannot start (NATS unreachable) fails the build and closes the core it was given', async () => {
    const dbPath = path.join(tmp.dir, 'nats-down.db');
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const config = testConfig(dbPath, { SONDE_NATS_URL: 'nats://127.0.0.1:1' });
    const core = await openHubCore({ dbPath: config.database, secret: config.secret, ca: true });
    await expect(buildApp(config, { logger: false, core })).rejects.toThrow();
    // The store was closed with the app: using it now fails instead of leaving an open database behind.
    await expect(core.store.users.list()).rejects.toThrow();
  }, 60_000);
});
