import { cpSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApi, type FakeApi } from '@sonde/pack-sdk/testing';
import { detectOsSandbox } from '@sonde/pack-sdk/sandbox';
import { signPackDir } from '@sonde/registry';
import { tempDir, testEnv } from '../helpers.js';
import { runCli, startHubProcess, type RunningHub } from '../process.js';
import { api, mcpClient, publisher, textJson, writeTrustStore, type Api, type Json } from './support.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/hostile-pack/', import.meta.url));

/**
 * An integration pack whose probe tries to leave the hub's sandbox: an
 * undeclared path through the broker, a direct socket that bypasses its
 * context, and a read of the hub's database. Each is stopped; the brokered
 * refusal is audited as integration.security.
 */
describe('integration packs run sandboxed on the hub', () => {
  const tmp = tempDir('sonde-hub-sandbox-');
  const key = publisher();
  const dbPath = path.join(tmp.dir, 'sonde.db');
  const trustFile = path.join(tmp.dir, 'trust.json');
  const env = testEnv(dbPath, { SONDE_LOG_LEVEL: 'info', SONDE_TRUST_FILE: trustFile });
  let hub: RunningHub;
  let admin: Api;
  let memberKey: string;
  let product: FakeApi;

  beforeAll(async () => {
    writeTrustStore(trustFile, [key]);
    product = await startFakeApi({ authorized: () => true, route: () => ({ body: { fine: true } }) });
    hub = await startHubProcess(env);
    admin = api(
      hub.url,
      (JSON.parse((await runCli(['keys', 'create', '--name', 'ops', '--role', 'admin', '--json'], env)).stdout) as Json).rawKey,
    );
    memberKey = (JSON.parse((await runCli(['keys', 'create', '--name', 'ai', '--role', 'member', '--json'], env)).stdout) as Json).rawKey;
  }, 60_000);

  afterAll(async () => {
    await hub?.stop();
    await product?.close();
    tmp.cleanup();
  });

  it('stops a probe that reaches past its declared endpoint paths, around the broker, or into the hub database', async () => {
    const dir = path.join(tmp.dir, 'hostile');
    cpSync(FIXTURE, dir, { recursive: true });
    const definition = (await import(path.join(FIXTURE, 'index.js'))) as { default: { manifest: unknown } };
    writeFileSync(path.join(dir, 'sonde-pack.json'), JSON.stringify(definition.default.manifest, null, 2));
    await signPackDir(dir, key);
    expect((await admin.post('/api/v1/integrations/packs', { path: dir })).status).toBe(201);
    expect((await admin.post('/api/v1/integrations/packs/hostile/approve', {})).body.pack.state).toBe('active');
    await admin.post('/api/v1/integrations/instances', { name: 'target', pack: 'hostile', endpoint: product.endpoint });

    const client = await mcpClient(hub.url, memberKey);
    const declared = textJson(await client.callTool({ name: 'hostile_declared', arguments: { instance: 'target' } }));
    expect(declared).toMatchObject({ status: 'ok', data: { status: 200 } });
    const seenBefore = product.seen.length;

    const escape = textJson(
      await client.callTool({
        name: 'hostile_escape',
        arguments: { instance: 'target', target: `${product.endpoint}/direct`, file: dbPath },
      }),
    );
    await client.close();
    expect(escape.data.brokered).toMatchObject({ ok: false, error: expect.stringContaining('SONDE_ERR_PERMISSION_DENIED') });
    expect(escape.data.file).toMatchObject({ ok: false, error: expect.stringMatching(/ERR_ACCESS_DENIED/) });
    const status = (await admin.get('/api/v1/integrations/status')).body;
    if (String(status.isolation).includes('netns')) expect(escape.data.direct.ok).toBe(false);
    // Neither the undeclared path nor the direct socket reached the product.
    if (String(status.isolation).includes('netns')) expect(product.seen.length).toBe(seenBefore);
    expect(product.seen.map((s) => s.url)).not.toContain('/secret');

    const audit = (await admin.get('/api/v1/audit?limit=100')).body.entries as Json[];
    const security = audit.filter((e) => e.action === 'integration.security');
    expect(security.map((e) => e.detail as string)).toEqual(expect.arrayContaining([expect.stringMatching(/^effect-refused: .*\/secret/)]));
  }, 60_000);

  // Node's permission model does not check connect() on a Unix socket; only the mount and network namespaces
  // do. ENOENT (not ECONNREFUSED) for the database file also shows the hub's files are not in the pack's view.
  it.skipIf(detectOsSandbox()?.kind !== 'bwrap')(
    'reaches no hub-host Unix socket and sees no hub file (needs bubblewrap)',
    async () => {
      const status = (await admin.get('/api/v1/integrations/status')).body;
      expect(status.isolation).toContain('mountns');
      const tag = `sonde-hub-escape-${process.pid}-${Date.now()}`;
      const pathSocket = path.join(tmp.dir, 'host.sock');
      const shmSocket = `/dev/shm/${tag}.sock`;
      let accepted = 0;
      const servers = await Promise.all(
        [pathSocket, shmSocket, `\0${tag}`].map(
          (where) =>
            new Promise<net.Server>((resolve, reject) => {
              const server = net.createServer((socket) => {
                accepted++;
                socket.end('HUB-HOST-SECRET');
              });
              server.once('error', reject);
              server.listen(where, () => resolve(server));
            }),
        ),
      );
      try {
        const client = await mcpClient(hub.url, memberKey);
        const paths = [pathSocket, shmSocket, `/proc/${hub.child.pid}/root${pathSocket}`, `/proc/1/root${pathSocket}`, dbPath, `\0${tag}`];
        const result = textJson(await client.callTool({ name: 'hostile_sockets', arguments: { instance: 'target', paths } }));
        await client.close();
        const outcomes = result.data.outcomes as Array<{ ok: boolean; error?: string }>;
        expect(outcomes.map((o) => o.ok)).toEqual(paths.map(() => false));
        expect(outcomes.slice(0, 5).map((o) => o.error?.split(' ')[0])).toEqual(paths.slice(0, 5).map(() => 'ENOENT'));
        expect(outcomes[5]?.error).toMatch(/^ECONNREFUSED/);
        expect(accepted).toBe(0);
      } finally {
        for (const server of servers) server.close();
        rmSync(shmSocket, { force: true });
      }
    },
    60_000,
  );
});
