import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openHubStore } from '../../src/store/open.js';
import { ADMIN_PASSWORD, ADMIN_USER, tempDir, testEnv } from '../helpers.js';
import { runCli, startHubProcess, type RunningHub } from '../process.js';
import { hubRequest, postgresForTests, serverCertificate } from './support.js';

/**
 * Two hub processes started at the same moment on one empty PostgreSQL database: migrations and the first boot
 * (salt, secret check, CA, bootstrap admin) must happen once, so both hubs end up with the same CA and the same keys.
 */
const pg = await postgresForTests(import.meta.url);
const tmp = tempDir('sonde-pg-boot-');
const hubs: RunningHub[] = [];
afterAll(async () => {
  await Promise.all(hubs.map((hub) => hub.stop()));
  await pg.dropAll();
  tmp.cleanup();
});

describe('two hubs starting together on an empty PostgreSQL database', () => {
  it.skipIf(!pg.available.holds)(
    `share one CA, one salt and one admin; the audit chain both wrote verifies ${pg.available.reason}`,
    async () => {
      const url = await pg.fresh();
      const env = (n: number) =>
        testEnv(path.join(tmp.dir, `hub-${n}`, 'sonde.db'), { SONDE_DATABASE_URL: url, SONDE_TLS: 'auto', SONDE_LOG_LEVEL: 'info' });
      const started = await Promise.allSettled([startHubProcess(env(1)), startHubProcess(env(2))]);
      for (const result of started) if (result.status === 'fulfilled') hubs.push(result.value);
      for (const result of started) if (result.status === 'rejected') throw result.reason;

      const store = await openHubStore(url);
      try {
        const caPem = (await store.settings.get('ca.cert'))!;
        const ca = new X509Certificate(caPem);
        // Each hub's TLS certificate was issued by the one CA in the database (a hub that made its own would not verify).
        for (const hub of hubs) {
          const leaf = await serverCertificate(hub.port);
          expect(leaf.checkIssued(ca)).toBe(true);
          expect(leaf.verify(ca.publicKey)).toBe(true);
        }
        expect((await store.users.list()).filter((user) => user.name === ADMIN_USER)).toHaveLength(1);

        // A login on each hub appends an audit entry hashed with that hub's audit key; both keys must come from the one salt.
        for (const hub of hubs) {
          const login = await hubRequest(`${hub.url}/api/v1/auth/login`, caPem, {
            method: 'POST',
            body: { user: ADMIN_USER, password: ADMIN_PASSWORD },
          });
          expect(login.status).toBe(200);
        }
        expect((await store.audit.query({ limit: 10, tool: 'login' })).length).toBeGreaterThanOrEqual(2);
      } finally {
        await store.close();
      }
      const verify = await runCli(['audit', 'verify', '--full', '--json'], {
        ...testEnv(path.join(tmp.dir, 'cli', 'sonde.db')),
        SONDE_DATABASE_URL: url,
      });
      expect(verify.code, verify.stderr).toBe(0);
      expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, full: true });
      expect((JSON.parse(verify.stdout) as { checked: number }).checked).toBeGreaterThanOrEqual(2);
    },
  );
});
