import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApi, type FakeApi } from '@sonde/pack-sdk/testing';
import { signPackTarball } from '@sonde/registry';
import { tempDir, testEnv } from '../helpers.js';
import { runCli, startHubProcess, type RunningHub } from '../process.js';
import { api, mcpClient, packCopy, publisher, textJson, writeTrustStore, type Api, type Json } from './support.js';

/**
 * Integration packs on a real hub process: a signed copy of packs/http,
 * install → pending → approve → MCP tools through the official SDK client,
 * two instances against two fake product servers, sealed credentials, Test
 * Connection, updates with the same and with more permissions, a refused
 * downgrade, and files changed after install refused at the next start.
 */

const TOKEN_A = 'tok-alpha-5f1e9c2b7d3a';
const TOKEN_B = 'tok-bravo-8e2d4c6a0b1f';

function fakeServer(label: string, token: string): Promise<FakeApi> {
  return startFakeApi({
    authorized: (req) => req.headers.authorization === `Bearer ${token}`,
    route: (_req, url) => {
      if (url.pathname === '/') return { body: { up: true, server: label } };
      if (url.pathname === '/api/status') return { body: { server: label, query: Object.fromEntries(url.searchParams) } };
      return undefined;
    },
  });
}

describe('integration packs on the hub (real process)', () => {
  const tmp = tempDir('sonde-hub-integrations-');
  const key = publisher();
  const dbPath = path.join(tmp.dir, 'sonde.db');
  const trustFile = path.join(tmp.dir, 'trust.json');
  const packsDir = path.join(tmp.dir, 'packs');
  const env = testEnv(dbPath, { SONDE_LOG_LEVEL: 'info', SONDE_TRUST_FILE: trustFile, SONDE_PACKS_DIR: packsDir });
  let hub: RunningHub;
  let admin: Api;
  let adminKey: string;
  let memberKey: string;
  let a: FakeApi;
  let b: FakeApi;

  beforeAll(async () => {
    [a, b] = await Promise.all([fakeServer('A', TOKEN_A), fakeServer('B', TOKEN_B)]);
    hub = await startHubProcess(env);
    adminKey = (JSON.parse((await runCli(['keys', 'create', '--name', 'ops', '--role', 'admin', '--json'], env)).stdout) as Json).rawKey;
    memberKey = (JSON.parse((await runCli(['keys', 'create', '--name', 'ai', '--role', 'member', '--json'], env)).stdout) as Json).rawKey;
    admin = api(hub.url, adminKey);
  }, 60_000);

  afterAll(async () => {
    await hub?.stop();
    await Promise.all([a?.close(), b?.close()]);
    tmp.cleanup();
  });

  it('refuses every pack while no trust store exists, and says how to trust a key', async () => {
    const dir = await packCopy('http', tmp.dir, { key });
    const refused = await admin.post('/api/v1/integrations/packs', { path: dir });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('SONDE_ERR_PACK_UNKNOWN_KEY');
    expect(refused.body.error.message).toContain('sonde-registry trust add-key');
    expect(refused.body.error.message).toContain(trustFile);
    expect((await admin.get('/api/v1/integrations/status')).body.trustProblem.reason).toContain('no trust store');
  });

  it('is admin only', async () => {
    const member = api(hub.url, memberKey);
    expect((await member.get('/api/v1/integrations/packs')).status).toBe(403);
    expect((await member.post('/api/v1/integrations/packs', { path: '/tmp' })).status).toBe(403);
  });

  it('refuses an unsigned and a tampered pack with the registry code, writing nothing', async () => {
    writeTrustStore(trustFile, [key]);
    const unsigned = await admin.post('/api/v1/integrations/packs', { path: await packCopy('http', tmp.dir) });
    expect(unsigned.status).toBe(422);
    expect(unsigned.body.error.code).toBe('SONDE_ERR_PACK_UNSIGNED');

    const tampered = await packCopy('http', tmp.dir, { key });
    appendFileSync(path.join(tampered, 'dist', 'index.js'), '\n// one more line\n');
    const changed = await admin.post('/api/v1/integrations/packs', { path: tampered });
    expect(changed.status).toBe(422);
    expect(changed.body.error.code).toBe('SONDE_ERR_PACK_FILE_CHANGED');
    expect(changed.body.error.message).toContain('dist/index.js');

    const foreign = await packCopy('http', tmp.dir, { key: publisher('someone-else') });
    const unknown = await admin.post('/api/v1/integrations/packs', { path: foreign });
    expect(unknown.body.error.code).toBe('SONDE_ERR_PACK_UNKNOWN_KEY');

    expect(existsSync(path.join(packsDir, 'store', '@sonde'))).toBe(false);
    expect((await admin.get('/api/v1/integrations/packs')).body).toEqual([]);
    const audit = await admin.get('/api/v1/audit?limit=50');
    const refusals = (audit.body.entries as Json[]).filter((e) => e.action === 'integration.install' && e.status === 'error');
    expect(refusals.map((e) => (e.params as Json).code)).toEqual(
      expect.arrayContaining(['SONDE_ERR_PACK_UNSIGNED', 'SONDE_ERR_PACK_FILE_CHANGED', 'SONDE_ERR_PACK_UNKNOWN_KEY']),
    );
  });

  it('leaves a signed pack pending (no tools) until an admin approves it; then its probes are MCP tools', async () => {
    const installed = await admin.post('/api/v1/integrations/packs', { path: await packCopy('http', tmp.dir, { key }) });
    expect(installed.status).toBe(201);
    expect(installed.body).toMatchObject({ version: '0.1.0', outcome: 'pending', pack: { name: 'http', state: 'pending' } });
    expect(installed.body.pack.pending.diff.added.map((c: Json) => c.kind)).toEqual(expect.arrayContaining(['network', 'credential']));

    await admin.post('/api/v1/integrations/instances', {
      name: 'svc-a',
      pack: 'http',
      endpoint: a.endpoint,
      credentials: { bearerToken: TOKEN_A },
    });
    const pendingClient = await mcpClient(hub.url, memberKey);
    expect((await pendingClient.listTools()).tools.map((t) => t.name)).not.toContain('http_get');
    const notServed = await pendingClient.callTool({ name: 'http_get', arguments: { instance: 'svc-a' } });
    expect(textJson(notServed).error.code).toBe('SONDE_ERR_UNKNOWN_TOOL');
    await pendingClient.close();

    const approved = await admin.post('/api/v1/integrations/packs/http/approve', {});
    expect(approved.status).toBe(200);
    expect(approved.body.pack).toMatchObject({ state: 'active', activeVersion: '0.1.0', approvedVersion: '0.1.0', pending: null });
    expect(approved.body.diff.added.length).toBeGreaterThan(0);

    const client = await mcpClient(hub.url, memberKey);
    const tools = (await client.listTools()).tools;
    const get = tools.find((t) => t.name === 'http_get');
    expect(get?.inputSchema.required).toContain('instance');
    const result = await client.callTool({ name: 'http_get', arguments: { instance: 'svc-a', path: '/api/status', query: { q: '1' } } });
    expect(result.isError).toBeFalsy();
    expect(textJson(result)).toMatchObject({
      instance: 'svc-a',
      probe: 'http.get',
      status: 'ok',
      data: { status: 200, body: { server: 'A', query: { q: '1' } } },
    });
    await client.close();

    const status = (await admin.get('/api/v1/integrations/status')).body;
    expect(status).toMatchObject({
      trustFile,
      trustProblem: null,
      packsDir,
      processes: [{ instance: 'svc-a', pack: 'http', status: 'ready' }],
    });
    expect(status.isolation).toMatch(/^permission-model/);

    const packEndpoint = await mcpClient(hub.url, memberKey, '/mcp/packs/http');
    expect((await packEndpoint.listTools()).tools.map((t) => t.name)).toEqual(expect.arrayContaining(['http_get', 'http_health']));
    await packEndpoint.close();
  }, 60_000);

  it('runs two instances of one pack with their own endpoints and credentials', async () => {
    const created = await admin.post('/api/v1/integrations/instances', {
      name: 'svc-b',
      pack: 'http',
      endpoint: b.endpoint,
      credentials: { bearerToken: TOKEN_B },
    });
    expect(created.status).toBe(201);
    const client = await mcpClient(hub.url, memberKey);
    const fromA = textJson(await client.callTool({ name: 'http_get', arguments: { instance: 'svc-a', path: '/api/status' } }));
    const fromB = textJson(await client.callTool({ name: 'http_get', arguments: { instance: 'svc-b', path: '/api/status' } }));
    expect(fromA.data.body.server).toBe('A');
    expect(fromB.data.body.server).toBe('B');
    expect(a.seen.at(-1)?.headers.authorization).toBe(`Bearer ${TOKEN_A}`);
    expect(b.seen.at(-1)?.headers.authorization).toBe(`Bearer ${TOKEN_B}`);
    const capabilities = textJson(await client.callTool({ name: 'list_capabilities', arguments: {} }));
    expect(capabilities.integrations).toMatchObject([
      { pack: 'http', kind: 'integration', instances: ['svc-a', 'svc-b'], probeToolsOn: ['/mcp', '/mcp/packs/http'] },
    ]);
    expect(capabilities.integrations[0].probes.map((p: Json) => p.tool)).toEqual(['http_get', 'http_health']);
    const unknown = await client.callTool({ name: 'http_get', arguments: { instance: 'svc-z' } });
    expect(textJson(unknown).error.code).toBe('SONDE_ERR_UNKNOWN_INSTANCE');
    await client.close();

    const limited = (
      JSON.parse(
        (await runCli(['keys', 'create', '--name', 'only-a', '--role', 'member', '--agents', 'svc-a', '--json'], env)).stdout,
      ) as Json
    ).rawKey as string;
    const scoped = await mcpClient(hub.url, limited);
    const denied = await scoped.callTool({ name: 'http_get', arguments: { instance: 'svc-b' } });
    expect(textJson(denied).error.code).toBe('SONDE_ERR_POLICY_DENIED');
    expect((await scoped.callTool({ name: 'http_get', arguments: { instance: 'svc-a' } })).isError).toBeFalsy();
    expect(textJson(await scoped.callTool({ name: 'list_capabilities', arguments: {} })).integrations[0].instances).toEqual(['svc-a']);
    await scoped.close();

    const audit = await admin.get('/api/v1/audit?tool=http_get&limit=20');
    const entries = audit.body.entries as Json[];
    expect(entries.map((e) => `${e.agents[0]}:${e.status}`)).toEqual(expect.arrayContaining(['svc-a:ok', 'svc-b:ok', 'svc-b:denied']));
  }, 60_000);

  it('never returns credentials and keeps them sealed at rest (not in the database file, not in the audit log)', async () => {
    const listed = await admin.get('/api/v1/integrations/instances');
    expect(listed.body.map((i: Json) => i.name)).toEqual(['svc-a', 'svc-b']);
    expect(listed.body[0].credentialNames).toEqual(['bearerToken']);
    const text = JSON.stringify(listed.body) + JSON.stringify((await admin.get('/api/v1/integrations/instances/svc-a')).body);
    expect(text).not.toContain(TOKEN_A);
    expect(text).not.toContain(TOKEN_B);
    const audit = JSON.stringify((await admin.get('/api/v1/audit?limit=500')).body);
    expect(audit).toContain('integration.instance.create');
    expect(audit).not.toContain(TOKEN_A);
    expect(audit).not.toContain(TOKEN_B);
    const files = readdirSync(tmp.dir).filter((f) => f.startsWith('sonde.db'));
    expect(files).toContain('sonde.db');
    for (const file of files) {
      // The hub writes its audit anchor under a temporary name and renames it (audit/anchor.ts): one listed while a
      // write was under way is gone by now, and what it held is in sonde.db.audit-anchor, read here like every other.
      const bytes = readIfThere(path.join(tmp.dir, file));
      if (bytes === undefined) {
        expect(file, 'only a temporary anchor file may vanish').toMatch(/^sonde\.db\.audit-anchor\.\d+\.partial$/);
        continue;
      }
      expect(bytes.includes(Buffer.from(TOKEN_A))).toBe(false);
      expect(bytes.includes(Buffer.from(TOKEN_B))).toBe(false);
    }
    expect(hub.output()).not.toContain(TOKEN_A);
  });

  it('Test Connection: Untested, then Connected, or Error with the reason and time', async () => {
    const down = await admin.post('/api/v1/integrations/instances', { name: 'svc-down', pack: 'http', endpoint: 'http://127.0.0.1:9' });
    expect(down.body).toMatchObject({ status: 'untested', lastError: null, lastCheckedAt: null });
    const ok = await admin.post('/api/v1/integrations/instances/svc-a/test');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'connected', lastError: null, probe: 'health' });
    expect(Date.parse(ok.body.lastCheckedAt as string)).toBeGreaterThan(Date.now() - 60_000);
    const failed = await admin.post('/api/v1/integrations/instances/svc-down/test');
    expect(failed.body).toMatchObject({ status: 'error', probe: 'health' });
    expect(failed.body.lastError).toMatch(/unreachable/);
    // A wrong token: the server answers 401, which is an Error too.
    await admin.patch('/api/v1/integrations/instances/svc-b', { credentials: { bearerToken: 'wrong-token-123' } });
    expect((await admin.get('/api/v1/integrations/instances/svc-b')).body.status).toBe('untested');
    const unauthorized = await admin.post('/api/v1/integrations/instances/svc-b/test');
    expect(unauthorized.body.status).toBe('error');
    expect(unauthorized.body.lastError).toMatch(/401/);
    await admin.patch('/api/v1/integrations/instances/svc-b', { credentials: { bearerToken: TOKEN_B } });
    expect((await admin.post('/api/v1/integrations/instances/svc-b/test')).body.status).toBe('connected');
    expect((await admin.get('/api/v1/integrations/instances/svc-down')).body.status).toBe('error');
  }, 60_000);

  it('an update with the same permissions activates at once; one with more waits while the old version keeps serving', async () => {
    const same = await admin.post('/api/v1/integrations/packs', { path: await packCopy('http', tmp.dir, { key, version: '0.1.1' }) });
    expect(same.body).toMatchObject({ version: '0.1.1', outcome: 'active', pack: { activeVersion: '0.1.1' } });
    expect(same.body.diff.added).toEqual([]);

    const wider = await admin.post('/api/v1/integrations/packs', {
      path: await packCopy('http', tmp.dir, { key, version: '0.2.0', extraCredentials: ['apiKey'] }),
    });
    expect(wider.body).toMatchObject({ version: '0.2.0', outcome: 'pending', pack: { state: 'active', activeVersion: '0.1.1' } });
    expect(wider.body.pack.pending).toMatchObject({ version: '0.2.0', diff: { widened: true } });
    expect(wider.body.pack.pending.diff.added.map((c: Json) => c.key)).toEqual(['credential:apiKey']);

    const client = await mcpClient(hub.url, memberKey);
    const served = textJson(await client.callTool({ name: 'http_get', arguments: { instance: 'svc-a', path: '/api/status' } }));
    expect(served).toMatchObject({ status: 'ok', data: { body: { server: 'A' } } });
    await client.close();
    const audit = (await admin.get('/api/v1/audit?limit=100')).body.entries as Json[];
    const updates = audit.filter((e) => e.action === 'integration.update').map((e) => (e.params as Json).outcome);
    expect(updates).toEqual(expect.arrayContaining(['active', 'pending']));
  }, 60_000);

  it('refuses a downgrade unless asked for explicitly', async () => {
    const older = await admin.post('/api/v1/integrations/packs', { path: await packCopy('http', tmp.dir, { key, version: '0.0.9' }) });
    expect(older.status).toBe(409);
    expect(older.body.error.code).toBe('SONDE_ERR_DOWNGRADE');
    const back = await admin.post('/api/v1/integrations/packs/http/approve', { version: '0.1.0' });
    expect(back.body.error.code).toBe('SONDE_ERR_DOWNGRADE');
    expect((await admin.get('/api/v1/integrations/packs/http')).body.activeVersion).toBe('0.1.1');

    // Asked for explicitly, it installs (same permissions: it serves), and approving 0.1.1 again moves forward.
    const asked = await admin.post('/api/v1/integrations/packs', {
      path: await packCopy('http', tmp.dir, { key, version: '0.0.9' }),
      allowDowngrade: true,
    });
    expect(asked.body).toMatchObject({ version: '0.0.9', outcome: 'active', pack: { activeVersion: '0.0.9' } });
    const forward = await admin.post('/api/v1/integrations/packs/http/approve', { version: '0.1.1' });
    expect(forward.body.pack).toMatchObject({ activeVersion: '0.1.1', pending: { version: '0.2.0' } });
  });

  it('refuses a pack whose files changed after install at the next load, and audits why', async () => {
    const installed = path.join(packsDir, 'store', '@sonde', 'pack-http', '0.1.1');
    appendFileSync(path.join(installed, 'dist', 'probes', 'get.js'), '\n// changed on disk\n');
    expect(await hub.stop()).toBe(0);
    hub = await startHubProcess(env);
    admin = api(hub.url, adminKey);
    const pack = (await admin.get('/api/v1/integrations/packs/http')).body;
    expect(pack).toMatchObject({
      state: 'refused',
      activeVersion: null,
      refused: { code: 'SONDE_ERR_PACK_FILE_CHANGED', file: 'dist/probes/get.js' },
    });
    const client = await mcpClient(hub.url, memberKey);
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('http_get');
    await client.close();
    const test = await admin.post('/api/v1/integrations/instances/svc-a/test');
    expect(test.body.status).toBe('error');
    expect(test.body.lastError).toContain('SONDE_ERR_PACK_FILE_CHANGED');
    const audit = (await admin.get('/api/v1/audit?limit=100')).body.entries as Json[];
    expect(audit.find((e) => e.action === 'integration.refused' && (e.params as Json).version === '0.1.1')).toMatchObject({
      status: 'error',
      params: { code: 'SONDE_ERR_PACK_FILE_CHANGED' },
    });
    // Installing the same signed version again repairs it: the removed copy is written back from the verified files
    // kept in the database (what another hub does with a version it did not install), so the version is unchanged.
    rmSync(installed, { recursive: true, force: true });
    const again = await admin.post('/api/v1/integrations/packs', { path: await packCopy('http', tmp.dir, { key, version: '0.1.1' }) });
    expect(again.body).toMatchObject({ outcome: 'unchanged', pack: { state: 'active', activeVersion: '0.1.1' } });
  }, 60_000);

  it('reload re-reads the trust store: a key no longer trusted stops the pack, trusting it again restores it', async () => {
    writeTrustStore(trustFile, [publisher('another')]);
    const reloaded = await admin.post('/api/v1/integrations/reload');
    expect(reloaded.body.find((p: Json) => p.name === 'http')).toMatchObject({
      state: 'refused',
      refused: { code: 'SONDE_ERR_PACK_UNKNOWN_KEY' },
    });
    const client = await mcpClient(hub.url, memberKey);
    const refused = await client.callTool({ name: 'http_get', arguments: { instance: 'svc-a' } });
    expect(textJson(refused).error.code).toBe('SONDE_ERR_UNKNOWN_TOOL');
    writeTrustStore(trustFile, [key]);
    expect((await admin.post('/api/v1/integrations/reload')).body.find((p: Json) => p.name === 'http').state).toBe('active');
    expect((await client.callTool({ name: 'http_get', arguments: { instance: 'svc-a' } })).isError).toBeFalsy();
    await client.close();
  }, 60_000);

  it('installs from an npm spec (here a signed tarball made by npm pack) and keeps it pending', async () => {
    const dir = await packCopy('proxmox', tmp.dir);
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile('npm', ['pack', dir, '--pack-destination', tmp.dir, '--ignore-scripts', '--json'], { cwd: tmp.dir }, (error, out) =>
        error ? reject(new Error(`npm pack failed: ${error.message}`)) : resolve(out),
      ),
    );
    const filename = (JSON.parse(stdout.slice(stdout.indexOf('['))) as Json[])[0].filename as string;
    const packed = path.join(tmp.dir, filename.replace(/^@/, '').replace(/\//g, '-'));
    const unsigned = await admin.post('/api/v1/integrations/packs', { spec: packed });
    expect(unsigned.body.error.code).toBe('SONDE_ERR_PACK_UNSIGNED');
    await signPackTarball(packed, key);
    const installed = await admin.post('/api/v1/integrations/packs', { spec: packed });
    expect(installed.status).toBe(201);
    expect(installed.body).toMatchObject({
      version: '0.1.0',
      outcome: 'pending',
      pack: { name: 'proxmox', packageName: '@sonde/pack-proxmox' },
    });
    expect(existsSync(path.join(packsDir, 'store', '@sonde', 'pack-proxmox', '0.1.0', 'sonde-signature.json'))).toBe(true);
    const again = await admin.post('/api/v1/integrations/packs', { spec: packed });
    expect(again.body.outcome).toBe('unchanged');
    expect((await admin.del('/api/v1/integrations/packs/proxmox')).status).toBe(200);
  }, 60_000);

  it('a pack version on the hub-signed revocation list stops serving at once', async () => {
    const revoked = await admin.post('/api/v1/revocations', {
      packs: [{ pack: '@sonde/pack-http', versions: '0.1.1', reason: 'integration test' }],
    });
    expect(revoked.status).toBe(200);
    const deadline = Date.now() + 10_000;
    let pack = (await admin.get('/api/v1/integrations/packs/http')).body;
    while (pack.state !== 'refused' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      pack = (await admin.get('/api/v1/integrations/packs/http')).body;
    }
    expect(pack).toMatchObject({ state: 'refused', activeVersion: null, refused: { code: 'SONDE_ERR_PACK_VERSION_REVOKED' } });
    const client = await mcpClient(hub.url, memberKey);
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('http_get');
    await client.close();
  });

  it('removes a pack with its instances', async () => {
    const removed = await admin.del('/api/v1/integrations/packs/http');
    expect(removed.status).toBe(200);
    expect((await admin.get('/api/v1/integrations/packs')).body).toEqual([]);
    expect((await admin.get('/api/v1/integrations/instances')).body).toEqual([]);
    expect(existsSync(path.join(packsDir, 'store', '@sonde', 'pack-http', '0.1.1'))).toBe(false);
  });
});

function readIfThere(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
