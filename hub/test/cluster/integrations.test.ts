import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { startFakeApi, type FakeApi } from '@sonde/pack-sdk/testing';
import { storePath } from '@sonde/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { precondition } from '../../../test/support/preconditions.js';
import { waitFor } from '../gateway/support/wait.js';
import { tempDir } from '../helpers.js';
import { api, mcpClient, packCopy, publisher, textJson, writeTrustStore, type Api } from '../integrations/support.js';
import { natsUp, startCluster, testPrefix, type Cluster, type ClusterHub } from './support.js';

const nats = precondition(
  import.meta.url,
  'nats',
  await natsUp(),
  'no NATS server with JetStream on 127.0.0.1:4222 (.ci/services.sh starts one)',
);

const TOKEN = 'tok-cluster-5c1e7a9d';

/**
 * An integration pack installed and approved through hub 1 serves on hub 2, whose packs folder is its own (as on
 * another host): the verified files travel in the database, hub 2 writes them into its folder and verifies them
 * again, and the change reaches hub 2 over NATS without a restart or a manual reload.
 */
describe.skipIf(!nats.holds)('integration packs across hubs', () => {
  const prefix = testPrefix();
  const { dir, cleanup } = tempDir('sonde-cluster-integrations-');
  const dbPath = path.join(dir, 'sonde.db');
  const trustFile = path.join(dir, 'trust.json');
  const key = publisher();
  const packsDirs = [path.join(dir, 'packs-hub-1'), path.join(dir, 'packs-hub-2')];
  const hubs: ClusterHub[] = [];
  let cluster: Cluster | undefined;
  let admin: Api[];
  let adminKey: string;
  let fake: FakeApi;

  beforeAll(async () => {
    writeTrustStore(trustFile, [key]);
    fake = await startFakeApi({
      authorized: (req) => req.headers.authorization === `Bearer ${TOKEN}`,
      route: (_req, url) => (url.pathname === '/api/status' ? { body: { server: 'fake' } } : { body: { up: true } }),
    });
    const envs = packsDirs.map((packsDir) => ({ SONDE_TRUST_FILE: trustFile, SONDE_PACKS_DIR: packsDir }));
    cluster = await startCluster(dbPath, prefix, envs, { core: true });
    hubs.push(...cluster.hubs);
    adminKey = cluster.shared!.adminKey;
    admin = hubs.map((hub) => api(hub.url, adminKey));
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    await fake?.close();
    cleanup();
  });

  it('serves on hub 2 a pack installed and approved on hub 1, from files hub 2 wrote into its own folder', async () => {
    const source = path.join(dir, 'sources');
    mkdirSync(source);
    const installed = await admin[0].post('/api/v1/integrations/packs', { path: await packCopy('http', source, { key }) });
    expect(installed.status).toBe(201);
    expect((await admin[0].post('/api/v1/integrations/packs/http/approve', {})).status).toBe(200);
    await admin[0].post('/api/v1/integrations/instances', {
      name: 'svc',
      pack: 'http',
      endpoint: fake.endpoint,
      credentials: { bearerToken: TOKEN },
    });

    await waitFor(
      async () => (await admin[1].get('/api/v1/integrations/packs/http')).body.state === 'active',
      'hub 2 to serve http',
      10_000,
    );
    const packageName = (installed.body as { pack: { packageName: string } }).pack.packageName;
    // Hub 2's own copy, not hub 1's folder.
    expect(existsSync(storePath(path.join(packsDirs[1], 'store'), packageName, '0.1.0'))).toBe(true);

    const client = await mcpClient(hubs[1].url, adminKey);
    try {
      const result = await client.callTool({ name: 'http_get', arguments: { instance: 'svc', path: '/api/status' } });
      expect(textJson(result)).toMatchObject({ instance: 'svc', status: 'ok', data: { status: 200, body: { server: 'fake' } } });
    } finally {
      await client.close();
    }
  });

  it('stops serving on hub 2 when the pack is removed on hub 1', async () => {
    expect((await admin[0].del('/api/v1/integrations/packs/http')).status).toBeLessThan(300);
    await waitFor(async () => (await admin[1].get('/api/v1/integrations/packs/http')).status === 404, 'hub 2 to drop http', 10_000);
  });
});
