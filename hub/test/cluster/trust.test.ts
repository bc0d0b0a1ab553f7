import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { precondition } from '../../../test/support/preconditions.js';
import { waitFor } from '../gateway/support/wait.js';
import { tempDir } from '../helpers.js';
import { api, packCopy, publisher, writeTrustStore, type Api, type Json } from '../integrations/support.js';
import { runCli } from '../process.js';
import { postgresForTests } from '../postgres/support.js';
import { clusterEnv, dropBuckets, natsUp, startClusterHub, testPrefix, type ClusterHub } from './support.js';

const nats = precondition(
  import.meta.url,
  'nats',
  await natsUp(),
  'no NATS server with JetStream on 127.0.0.1:4222 (.ci/services.sh starts one)',
);
const pg = await postgresForTests(import.meta.url);

/**
 * The integration trust store is shared state: two hub processes on one PostgreSQL database, each with a trust file
 * of its own (SONDE_TRUST_FILE, the import path). A publisher trusted by editing hub 1's file is trusted by hub 2; a
 * hub restarting with an old copy of its file changes nothing; a key removed in hub 1's file stops hub 2 serving.
 */
describe.skipIf(!nats.holds || !pg.available.holds)('the integration trust store across hubs (PostgreSQL)', () => {
  const prefix = testPrefix();
  const { dir, cleanup } = tempDir('sonde-cluster-trust-');
  const trustFiles = [path.join(dir, 'trust-hub-1.json'), path.join(dir, 'trust-hub-2.json')];
  const key = publisher();
  const hubs: ClusterHub[] = [];
  let url: string;
  let admin: Api[];
  let adminKey: string;
  const envOf = (index: number): Record<string, string> => ({
    SONDE_DATABASE_URL: url,
    SONDE_TRUST_FILE: trustFiles[index],
    SONDE_PACKS_DIR: path.join(dir, `packs-hub-${index + 1}`),
  });
  const start = (index: number): Promise<ClusterHub> =>
    startClusterHub(path.join(dir, `hub-${index + 1}`, 'sonde.db'), prefix, `hub-${index + 1}`, envOf(index));

  beforeAll(async () => {
    url = await pg.fresh();
    hubs.push(await start(0));
    hubs.push(await start(1));
    const created = await runCli(
      ['keys', 'create', '--name', 'ops', '--role', 'admin', '--json'],
      clusterEnv(path.join(dir, 'cli', 'sonde.db'), prefix, 'cli', { SONDE_DATABASE_URL: url }),
    );
    adminKey = (JSON.parse(created.stdout) as Json).rawKey as string;
    admin = hubs.map((hub) => api(hub.url, adminKey));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(hubs.map((hub) => hub.stop()));
    await dropBuckets(prefix);
    await pg.dropAll();
    cleanup();
  });

  it('trusts on hub 2 a publisher trusted in hub 1’s file, once hub 1 reloads; the import is audited once', async () => {
    const sources = path.join(dir, 'sources');
    mkdirSync(sources);
    const refused = await admin[1].post('/api/v1/integrations/packs', { path: await packCopy('http', sources, { key }) });
    expect(refused.body.error?.code).toBe('SONDE_ERR_PACK_UNKNOWN_KEY');

    writeTrustStore(trustFiles[0], [key]);
    expect((await admin[0].post('/api/v1/integrations/reload', {})).status).toBeLessThan(300);
    // Hub 2 loads again when hub 1 announces the change; its own file does not exist.
    await waitFor(async () => (await admin[1].get('/api/v1/integrations/status')).body.trustProblem === null, 'hub 2 to trust', 10_000);
    const installed = await admin[1].post('/api/v1/integrations/packs', { path: await packCopy('http', sources, { key }) });
    expect(installed.status).toBe(201);

    const audit = await admin[1].get('/api/v1/audit?limit=100');
    const imports = (audit.body.entries as Json[]).filter((e) => e.action === 'integration.trust.import');
    expect(imports).toHaveLength(1);
    expect(imports[0].params).toMatchObject({ file: trustFiles[0], revision: 1 });
  }, 60_000);

  it('keeps the shared trust store when hub 2 restarts with an old copy of its own file', async () => {
    writeTrustStore(trustFiles[1], []);
    await hubs[1].stop();
    hubs[1] = await start(1);
    admin[1] = api(hubs[1].url, adminKey);
    // Approving verifies the pack again against the trust store: still the shared one, which trusts the publisher.
    const approved = await admin[1].post('/api/v1/integrations/packs/http/approve', {});
    expect(approved.status).toBe(200);
    expect(approved.body.pack.state).toBe('active');
    await waitFor(async () => (await admin[0].get('/api/v1/integrations/packs/http')).body.state === 'active', 'hub 1 to serve', 10_000);
  }, 60_000);

  it('stops serving on hub 2 when the key is removed from hub 1’s file', async () => {
    writeTrustStore(trustFiles[0], []);
    expect((await admin[0].post('/api/v1/integrations/reload', {})).status).toBeLessThan(300);
    await waitFor(
      async () => (await admin[1].get('/api/v1/integrations/packs/http')).body.state === 'refused',
      'hub 2 to refuse the pack',
      10_000,
    );
    const pack = (await admin[1].get('/api/v1/integrations/packs/http')).body;
    expect(pack.refused.code).toBe('SONDE_ERR_PACK_UNKNOWN_KEY');
  }, 60_000);
});
