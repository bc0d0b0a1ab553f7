import { appendFileSync, cpSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { storePath } from '@sonde/registry';
import { afterAll, describe, expect, it } from 'vitest';
import { openHubStore } from '../../src/store/open.js';
import type { IntegrationPackRecord, IntegrationPackVersionRecord } from '../../src/store/types.js';
import { waitFor } from '../gateway/support/wait.js';
import { tempDir, testEnv } from '../helpers.js';
import { api, type Json } from '../integrations/support.js';
import { runCli, startHubProcess, type RunningHub } from '../process.js';
import { postgresForTests } from '../postgres/support.js';

/**
 * A version installed before its files went into the database (schema 6): the fixture
 * (hub/test/fixtures/integrations-schema-5) is what such a hub left, the pack's and version's records and the
 * verified files in its packs folder only. The hub that still holds the files shares them at start, after verifying
 * them again; a hub without them then serves the version without anyone installing it again. A copy that no longer
 * verifies is not shared.
 */
const FIXTURE = path.join(import.meta.dirname, '../fixtures/integrations-schema-5');
const records = JSON.parse(readFileSync(path.join(FIXTURE, 'records.json'), 'utf8')) as {
  pack: IntegrationPackRecord;
  version: IntegrationPackVersionRecord;
};
const pg = await postgresForTests(import.meta.url);
const tmp = tempDir('sonde-pre-archive-');
const hubs: RunningHub[] = [];
afterAll(async () => {
  await Promise.all(hubs.map((hub) => hub.stop()));
  await pg.dropAll();
  tmp.cleanup();
});

describe('integration pack versions installed before schema 6', () => {
  it.skipIf(!pg.available.holds)(
    `are shared by the hub that still holds their files, verified again; the other hub serves them ${pg.available.reason}`,
    async () => {
      const url = await pg.fresh();
      const store = await openHubStore(url);
      try {
        // The records as the old hub wrote them; migrations 6 and 7 only added tables, so nothing else differs.
        await store.integrations.ensurePack(records.pack.name, records.pack.packageName);
        await store.integrations.putVersion(records.version);
        await store.integrations.setApproved(records.pack.name, null, {
          version: records.pack.approvedVersion!,
          digest: records.pack.approvedDigest!,
          at: records.pack.approvedAt!,
          by: records.pack.approvedBy!,
        });
      } finally {
        await store.close();
      }
      const trustFile = path.join(tmp.dir, 'trust.json');
      cpSync(path.join(FIXTURE, 'trust.json'), trustFile);
      const packsDirs = [path.join(tmp.dir, 'packs-hub-1'), path.join(tmp.dir, 'packs-hub-2')];
      cpSync(path.join(FIXTURE, 'packs'), packsDirs[0], { recursive: true });
      const env = (n: number) =>
        testEnv(path.join(tmp.dir, `hub-${n}`, 'sonde.db'), {
          SONDE_DATABASE_URL: url,
          SONDE_TRUST_FILE: trustFile,
          SONDE_PACKS_DIR: packsDirs[n - 1],
          SONDE_LOG_LEVEL: 'info',
        });
      const archived = async (): Promise<boolean> => {
        const s = await openHubStore(url);
        try {
          return (await s.integrations.getArchive(records.version.name, records.version.version)) !== undefined;
        } finally {
          await s.close();
        }
      };
      const copy = storePath(path.join(packsDirs[0], 'store'), records.version.packageName, records.version.version);

      // A copy changed on disk does not verify: refused, and not shared.
      const original = readFileSync(path.join(copy, 'dist', 'index.js'));
      appendFileSync(path.join(copy, 'dist', 'index.js'), '\n// changed after install\n');
      let hub = await startHubProcess(env(1));
      hubs.push(hub);
      const created = await runCli(['keys', 'create', '--name', 'ops', '--role', 'admin', '--json'], env(1));
      const adminKey = (JSON.parse(created.stdout) as Json).rawKey as string;
      const refused = await api(hub.url, adminKey).get('/api/v1/integrations/packs/http');
      expect(refused.body).toMatchObject({ state: 'refused', refused: { code: 'SONDE_ERR_PACK_FILE_CHANGED' } });
      expect(await archived()).toBe(false);
      await hub.stop();
      hubs.splice(0);

      // The files as installed: hub 1 verifies them and stores them for every hub.
      cpSync(path.join(FIXTURE, 'packs'), packsDirs[0], { recursive: true, force: true });
      expect(readFileSync(path.join(copy, 'dist', 'index.js'))).toEqual(original);
      hub = await startHubProcess(env(1));
      hubs.push(hub);
      expect((await api(hub.url, adminKey).get('/api/v1/integrations/packs/http')).body.state).toBe('active');
      expect(await archived()).toBe(true);

      // Hub 2 has an empty packs folder: it writes the version from the database, verifies it and serves it.
      const second = await startHubProcess(env(2));
      hubs.push(second);
      const admin2 = api(second.url, adminKey);
      await waitFor(async () => (await admin2.get('/api/v1/integrations/packs/http')).body.state === 'active', 'hub 2 to serve', 10_000);
      expect(existsSync(storePath(path.join(packsDirs[1], 'store'), records.version.packageName, records.version.version))).toBe(true);
      const audit = await admin2.get('/api/v1/audit?limit=100');
      const shared = (audit.body.entries as Json[]).filter((e) => e.action === 'integration.share');
      expect(shared).toHaveLength(1);
      expect(shared[0].params).toMatchObject({ pack: 'http', version: records.version.version, integrity: records.version.integrity });
    },
    120_000,
  );
});
