import path from 'node:path';
import fp from 'fastify-plugin';
import { IntegrationService } from '../integrations/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Integration packs the hub runs itself (hub/src/integrations). */
    integrations: IntegrationService;
  }
}

/** Integration packs: verified and loaded before the hub listens; their processes end with it. */
export const integrationsPlugin = fp(
  async (app) => {
    const { core, hubConfig: config } = app;
    const db = path.resolve(config.dbPath);
    const integrations = new IntegrationService({
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
    const { cluster } = app;
    if (cluster) {
      // An install, approval, removal or instance change on any hub: every other hub loads its integrations again.
      integrations.onChange = () => cluster.bus.broadcast('integrations', {});
      cluster.bus.on('integrations', () => {
        integrations.load('reload').catch((err: unknown) => app.log.error({ err }, 'integration reload after another hub’s change failed'));
      });
    }
    app.decorate('integrations', integrations);
    app.addHook('onClose', () => integrations.close());
    try {
      await integrations.start();
    } catch (error) {
      // A packs folder the hub cannot prepare leaves every integration pack unloaded; the rest of the hub still serves.
      app.log.error({ err: error, packsDir: integrations.packsDir }, 'integration packs not loaded');
    }
  },
  { name: 'sonde-integrations', fastify: '5.x', dependencies: ['sonde-core', 'sonde-cluster'] },
);
