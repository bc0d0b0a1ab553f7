import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startFakeApi, type FakeApi } from '@sonde/pack-sdk/testing';
import { newKeyFile, type KeyFile } from '@sonde/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli as runHubCli, startHubProcess, type RunningHub } from '../../hub/test/process.js';
import { createPackFactory, startRegistry, type BuiltPack, type PackFactory, type Registry } from './support/verdaccio.js';

/**
 * Issue 12's "done when", hub half: a signed integration pack published to a
 * real npm registry (verdaccio on loopback), installed, approved and updated
 * through the hub's REST API by an admin, and served as an MCP tool against
 * an instance whose endpoint is a real HTTP server; a pack version and a
 * publisher key revoked on the hub (its signed list) stop serving and are
 * refused. What serves is read back with a real MCP call whose answer
 * carries the serving pack version.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const PACKAGE = '@sonde-e2e/pack-versioned-api';
const PACK = 'versioned-api';
const TOOL = 'versioned_api_version';
const INSTANCE = 'api-a';
const MORE = ['/version', '/metrics'];

let registry: Registry;
let mirror: Registry;
let factory: PackFactory;
let product: FakeApi;
let hub: RunningHub;
let dataDir: string;
let packsDir: string;
let adminKey: string;
const publisher = newKeyFile({ publisher: 'e2e' });
const compromised = newKeyFile({ publisher: 'e2e' });
const built: Record<string, BuiltPack> = {};

async function rest(method: string, url: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${hub.url}${url}`, {
    method,
    headers: { authorization: `Bearer ${adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Json) : {} };
}

const install = (spec: string, extra: Json = {}): Promise<{ status: number; body: Json }> =>
  rest('POST', '/api/v1/integrations/packs', { spec, ...extra });
const view = async (): Promise<Json> => (await rest('GET', `/api/v1/integrations/packs/${PACK}`)).body;

interface Serving {
  /** The version in the tool's answer (hub → pack process → product), undefined when the call fails. */
  probe: string | undefined;
  /** Whether the hub lists the tool at all. */
  listed: boolean;
}

async function serving(): Promise<Serving> {
  const client = new Client({ name: 'signed-packs-hub-e2e', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${hub.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${adminKey}` } } }),
  );
  try {
    const listed = (await client.listTools()).tools.some((tool) => tool.name === TOOL);
    const result = (await client.callTool({ name: TOOL, arguments: { instance: INSTANCE } })) as {
      content: Array<{ text: string }>;
      isError?: boolean;
    };
    const text = result.content[0]?.text ?? '';
    const answer = result.isError ? undefined : (JSON.parse(text) as Json);
    // The product really answered: the pack reached it through the hub's broker.
    if (answer) expect(answer.data).toMatchObject({ status: 200 });
    return { probe: answer?.data?.version as string | undefined, listed };
  } finally {
    await client.close();
  }
}

async function expectServing(expected: string | undefined): Promise<void> {
  expect(await serving(), `hub output tail:\n${hub.output().slice(-3000)}`).toEqual({
    probe: expected,
    listed: expected !== undefined,
  });
}

function writeNpmrc(url: string): void {
  writeFileSync(path.join(packsDir, '.npmrc'), `registry=${url}\n`);
}

beforeAll(async () => {
  factory = createPackFactory('signed-integration-pack');
  [registry, mirror, product] = await Promise.all([
    startRegistry(),
    startRegistry(),
    startFakeApi({
      authorized: () => true,
      route: (_req, url) => (url.pathname === '/version' ? { body: { product: 'fake', version: '9.9' } } : undefined),
    }),
  ]);
  const variants: Array<[string, string[] | undefined, KeyFile]> = [
    ['1.0.0', undefined, publisher],
    ['1.0.1', undefined, publisher],
    ['1.1.0', undefined, publisher],
    ['1.2.0', MORE, publisher],
    ['1.2.1', MORE, publisher],
    ['1.3.0', MORE, publisher],
    ['1.4.0', MORE, compromised],
  ];
  for (const [version, grants, key] of variants) built[version] = await factory.build({ version, grants }, key);
  await registry.publish(built['1.0.0'].tarball);
  await registry.publish(
    factory.tamper(built['1.0.1'].tarball, 'index.js', (code) => code.replace("description: 'Answers", "description: 'Tampered: answers")),
  );

  dataDir = mkdtempSync(path.join(os.tmpdir(), 'sonde-e2e-hub-int-'));
  packsDir = path.join(dataDir, 'packs');
  mkdirSync(packsDir);
  // The operator's registry configuration for the hub: an .npmrc in its packs folder.
  writeNpmrc(registry.url);
  const trustFile = path.join(dataDir, 'trust.json');
  writeFileSync(
    trustFile,
    JSON.stringify({
      type: 'sonde-trust-store',
      keys: [publisher, compromised].map((key) => ({ keyId: key.keyId, publicKey: key.publicKey, publisher: 'e2e' })),
      policy: { allow: [{ publisher: 'e2e', pack: '*' }] },
    }),
  );
  const env: Record<string, string> = {
    SONDE_SECRET: randomBytes(32).toString('base64'),
    SONDE_DB_PATH: path.join(dataDir, 'sonde.db'),
    SONDE_ADMIN_USER: 'admin',
    SONDE_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
    SONDE_PORT: '0',
    SONDE_HOST: '127.0.0.1',
    SONDE_LOG_LEVEL: 'info',
    SONDE_TRUST_FILE: trustFile,
    SONDE_PACKS_DIR: packsDir,
    // npm (run by the hub to fetch packs) keeps its cache here, not in the user's home.
    HOME: dataDir,
  };
  hub = await startHubProcess(env);
  const created = await runHubCli(['keys', 'create', '--name', 'e2e-admin', '--role', 'admin', '--json'], env);
  adminKey = (JSON.parse(created.stdout) as Json).rawKey as string;
}, 240_000);

afterAll(async () => {
  await hub?.stop();
  await Promise.all([registry?.stop(), mirror?.stop(), product?.close()]);
  factory?.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('signed integration packs from a real npm registry, on the hub (REST + MCP)', () => {
  it('installs v1.0.0 by npm spec: pending, no tool', async () => {
    const installed = await install(`${PACKAGE}@1.0.0`);
    expect(installed.status, JSON.stringify(installed.body)).toBe(201);
    expect(installed.body).toMatchObject({ version: '1.0.0', outcome: 'pending', pack: { name: PACK, state: 'pending' } });
    expect(installed.body.pack.versions[0].integrity).toBe(built['1.0.0'].integrity);
    const created = await rest('POST', '/api/v1/integrations/instances', { name: INSTANCE, pack: PACK, endpoint: product.endpoint });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await expectServing(undefined);
  });

  it('refuses a tampered tarball with the file code and writes nothing of it', async () => {
    const refused = await install(`${PACKAGE}@1.0.1`);
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('SONDE_ERR_PACK_FILE_CHANGED');
    expect(refused.body.error.message).toContain('index.js');
    expect(existsSync(path.join(packsDir, 'store', PACKAGE, '1.0.1'))).toBe(false);
    expect((await view()).versions.map((v: Json) => v.version)).toEqual(['1.0.0']);
  });

  it('serves v1.0.0 once an admin approves it', async () => {
    const approved = await rest('POST', `/api/v1/integrations/packs/${PACK}/approve`, {});
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.pack).toMatchObject({ state: 'active', activeVersion: '1.0.0' });
    await expectServing('1.0.0');
  });

  it('updates to v1.1.0 (same permissions): active at once', async () => {
    await registry.publish(built['1.1.0'].tarball);
    const updated = await install(`${PACKAGE}@^1.0.0`);
    expect(updated.body).toMatchObject({ version: '1.1.0', outcome: 'active', pack: { activeVersion: '1.1.0' } });
    expect(updated.body.diff.added).toEqual([]);
    await expectServing('1.1.0');
  });

  it('updates to v1.2.0 (more permissions): pending with the diff while v1.1.0 keeps serving; approve → v1.2.0', async () => {
    await registry.publish(built['1.2.0'].tarball);
    const updated = await install(`${PACKAGE}@^1.0.0`);
    expect(updated.body).toMatchObject({ version: '1.2.0', outcome: 'pending', pack: { state: 'active', activeVersion: '1.1.0' } });
    expect(updated.body.pack.pending).toMatchObject({ version: '1.2.0', diff: { widened: true } });
    expect(JSON.stringify(updated.body.pack.pending.diff.added)).toContain('/metrics');
    await expectServing('1.1.0');

    const approved = await rest('POST', `/api/v1/integrations/packs/${PACK}/approve`, {});
    expect(approved.body.pack).toMatchObject({ state: 'active', activeVersion: '1.2.0', pending: null });
    await expectServing('1.2.0');
  });

  it('refuses a downgrade to v1.0.0', async () => {
    const refused = await install(`${PACKAGE}@1.0.0`);
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.body.error.code).toBe('SONDE_ERR_DOWNGRADE');
    await expectServing('1.2.0');
  });

  it('revoking 1.2.x on the hub stops the serving v1.2.0 at once and refuses v1.2.1 at install', async () => {
    await registry.publish(built['1.2.1'].tarball);
    const revoked = await rest('POST', '/api/v1/revocations', { packs: [{ pack: PACKAGE, versions: '1.2.x', reason: 'e2e: leaks' }] });
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    await expect.poll(view, { timeout: 15_000 }).toMatchObject({ state: 'refused', refused: { code: 'SONDE_ERR_PACK_VERSION_REVOKED' } });
    await expectServing(undefined);
    const refused = await install(`${PACKAGE}@1.2.1`);
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('SONDE_ERR_PACK_VERSION_REVOKED');
    expect(existsSync(path.join(packsDir, 'store', PACKAGE, '1.2.1'))).toBe(false);
  });

  it('refuses a pack signed by a key revoked on the hub', async () => {
    await registry.publish(built['1.4.0'].tarball);
    const revoked = await rest('POST', '/api/v1/revocations', { keys: [{ keyId: compromised.keyId, reason: 'e2e: stolen' }] });
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    const refused = await install(`${PACKAGE}@1.4.0`);
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('SONDE_ERR_PACK_KEY_REVOKED');
    expect(existsSync(path.join(packsDir, 'store', PACKAGE, '1.4.0'))).toBe(false);
  });

  it('installs the same signed tarball re-published to a second registry, with the same integrity', async () => {
    await registry.publish(built['1.3.0'].tarball);
    await mirror.publish(built['1.3.0'].tarball);
    // The operator points the hub at the mirror and the first registry goes away.
    writeNpmrc(mirror.url);
    await registry.stop();
    const installed = await install(`${PACKAGE}@1.3.0`);
    expect(installed.status, JSON.stringify(installed.body)).toBe(201);
    expect(installed.body).toMatchObject({ version: '1.3.0', outcome: 'active' });
    const version = (installed.body.pack.versions as Json[]).find((v) => v.version === '1.3.0');
    expect(version).toMatchObject({ integrity: built['1.3.0'].integrity, keyId: publisher.keyId });
    await expectServing('1.3.0');
  });

  it('audits every step on the hub', async () => {
    const entries = (await rest('GET', '/api/v1/audit?limit=200')).body.entries as Json[];
    const actions = entries.map((e) => `${e.action}:${e.status}:${(e.params as Json | null)?.version ?? ''}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'integration.install:ok:1.0.0',
        'integration.install:error:',
        'integration.approve:ok:1.0.0',
        'integration.update:ok:1.1.0',
        'integration.update:ok:1.2.0',
        'integration.approve:ok:1.2.0',
        'integration.update:ok:1.3.0',
      ]),
    );
    expect(entries.map((e) => `${e.action}:${e.status}:${e.detail ?? ''}`)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^pack\.revoke:ok:revocation list serial 1: revoked @sonde-e2e\/pack-versioned-api@1\.2\.x/),
        expect.stringMatching(/^pack\.revoke:ok:revocation list serial 2: revoked key /),
        expect.stringMatching(/^integration\.install:error:.*is revoked/),
      ]),
    );
  });
});
