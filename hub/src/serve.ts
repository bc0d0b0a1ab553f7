import type { AddressInfo } from 'node:net';
import { loadConfig } from './config.js';
import { generateRsaKey } from './ca/index.js';
import { openHubCoreAsync } from './core.js';
import { listenDiagnostics, somaxconn, type DiagListener } from './listeners.js';
import { recordServedUrl } from './routes/hub-url.js';

/** Starts the hub from SONDE_* variables; stops cleanly on SIGINT/SIGTERM. */
export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(env);
  const started = performance.now();
  // scrypt, a new database's CA key and the SONDE_TLS=auto key are made on the thread pool while Fastify,
  // the routes and the gateway load.
  const opening = openHubCoreAsync({ dbPath: config.database, secret: config.secret, ca: true });
  const tlsKey = config.tls.mode === 'auto' ? generateRsaKey() : undefined;
  // Observed now, awaited below: a wrong secret found during the import must not become an unhandled rejection.
  for (const pending of [opening, tlsKey]) pending?.catch(() => undefined);
  const { buildApp } = await import('./app.js');
  const app = await buildApp(config, { core: await opening, tlsKeyPem: await tlsKey });
  await app.listen({ port: config.port, host: config.host, backlog: config.listenBacklog });
  const address = app.server.address() as AddressInfo;
  let diag: DiagListener | undefined;
  try {
    if (config.diag) diag = await listenDiagnostics(app, config.diag);
  } catch (error) {
    await app.close();
    throw error;
  }
  // What `sonde-hub tokens create` prints when given no --hub-url: this hub's address, from its configuration.
  await recordServedUrl(app.core.store.settings, app.sonde.config.publicUrl);
  app.log.info(
    {
      port: address.port,
      host: config.host,
      tls: config.tls.mode,
      // Never the URL itself: it may carry a password.
      db: config.database === config.dbPath ? config.dbPath : 'postgres',
      startupMs: Math.round(performance.now() - started),
      publicUrl: app.sonde.config.publicUrl,
      backlog: config.listenBacklog,
    },
    'sonde hub listening',
  );
  // The kernel silently shortens a longer backlog to net.core.somaxconn.
  const cap = somaxconn();
  if (cap !== undefined && cap < config.listenBacklog)
    app.log.warn({ backlog: config.listenBacklog, somaxconn: cap }, 'SONDE_LISTEN_BACKLOG is capped by net.core.somaxconn');
  if (diag) app.log.info({ port: diag.address.port, host: config.diag?.host }, 'sonde hub diagnostics listening');
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'sonde hub stopping');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    // The diagnostics listener stays open while the app closes (readiness answers 503 there), then closes with it.
    app
      .close()
      .then(() => diag?.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
