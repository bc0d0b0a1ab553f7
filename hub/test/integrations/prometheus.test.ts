import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApi, type FakeApi } from '@sonde/pack-sdk/testing';
import { tempDir, testEnv } from '../helpers.js';
import { runCli, startHubProcess, type RunningHub } from '../process.js';
import {
  api,
  mcpClient,
  packCopy,
  publisher,
  startPrometheus,
  textJson,
  writeTrustStore,
  type Api,
  type Json,
  type RealPrometheus,
} from './support.js';

/**
 * A signed copy of packs/prometheus on a real hub process, run in its sandbox against a real Prometheus on loopback
 * and, as a second instance, against pack-sdk's fake product server that answers only with the right bearer token.
 */
describe('prometheus integration pack on the hub against a real Prometheus', () => {
  const tmp = tempDir('sonde-hub-prometheus-');
  const key = publisher();
  const dbPath = path.join(tmp.dir, 'sonde.db');
  const trustFile = path.join(tmp.dir, 'trust.json');
  const env = testEnv(dbPath, { SONDE_LOG_LEVEL: 'info', SONDE_TRUST_FILE: trustFile });
  let prometheus: RealPrometheus;
  let fake: FakeApi;
  let hub: RunningHub;
  let admin: Api;
  let memberKey: string;

  beforeAll(async () => {
    writeTrustStore(trustFile, [key]);
    fake = await startFakeApi({
      authorized: (req) => req.headers.authorization === 'Bearer prom-token-771',
      route: (_req, url) =>
        url.pathname === '/api/v1/status/buildinfo'
          ? {
              body: {
                status: 'success',
                data: { version: '9.9.9-fake', revision: 'x', branch: 'b', buildUser: 'u', buildDate: 'd', goVersion: 'go' },
              },
            }
          : undefined,
    });
    [prometheus, hub] = await Promise.all([startPrometheus(path.join(tmp.dir, 'prometheus')), startHubProcess(env)]);
    admin = api(
      hub.url,
      (JSON.parse((await runCli(['keys', 'create', '--name', 'ops', '--role', 'admin', '--json'], env)).stdout) as Json).rawKey,
    );
    memberKey = (JSON.parse((await runCli(['keys', 'create', '--name', 'ai', '--role', 'member', '--json'], env)).stdout) as Json).rawKey;
  }, 60_000);

  afterAll(async () => {
    prometheus?.stop();
    await hub?.stop();
    await fake?.close();
    tmp.cleanup();
  });

  it('installs, approves, tests the connection and answers MCP calls from the real server', async () => {
    const installed = await admin.post('/api/v1/integrations/packs', { path: await packCopy('prometheus', tmp.dir, { key }) });
    expect(installed.status).toBe(201);
    expect(installed.body).toMatchObject({ outcome: 'pending', pack: { name: 'prometheus', state: 'pending' } });
    expect((await admin.post('/api/v1/integrations/packs/prometheus/approve', {})).body.pack.state).toBe('active');

    await admin.post('/api/v1/integrations/instances', { name: 'prom-real', pack: 'prometheus', endpoint: prometheus.endpoint });
    await admin.post('/api/v1/integrations/instances', {
      name: 'prom-fake',
      pack: 'prometheus',
      endpoint: fake.endpoint,
      credentials: { bearerToken: 'prom-token-771' },
    });
    const real = await admin.post('/api/v1/integrations/instances/prom-real/test');
    expect(real.body).toMatchObject({ status: 'connected', probe: 'buildinfo', lastError: null });
    const viaFake = await admin.post('/api/v1/integrations/instances/prom-fake/test');
    expect(viaFake.body).toMatchObject({ status: 'connected', probe: 'buildinfo' });
    expect(fake.seen.at(-1)?.headers.authorization).toBe('Bearer prom-token-771');

    const client = await mcpClient(hub.url, memberKey, '/mcp/packs/prometheus');
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['prometheus_targets', 'prometheus_query', 'prometheus_buildinfo']));
    const targets = textJson(await client.callTool({ name: 'prometheus_targets', arguments: { instance: 'prom-real' } }));
    expect(targets).toMatchObject({ instance: 'prom-real', probe: 'prometheus.targets', data: { totals: { up: 1, down: 1 } } });
    const query = textJson(
      await client.callTool({ name: 'prometheus_query', arguments: { instance: 'prom-real', query: 'sum by (job) (up)' } }),
    );
    expect(query.data).toMatchObject({ resultType: 'vector', seriesCount: 2 });
    const version = textJson(await client.callTool({ name: 'prometheus_buildinfo', arguments: { instance: 'prom-fake' } }));
    expect(version.data).toMatchObject({ version: '9.9.9-fake' });
    const bad = await client.callTool({ name: 'prometheus_query', arguments: { instance: 'prom-real', query: 'sum(' } });
    expect(bad.isError).toBe(true);
    expect(textJson(bad).error.code).toBe('SONDE_ERR_INVALID_PARAMS');
    await client.close();
  }, 60_000);
});
