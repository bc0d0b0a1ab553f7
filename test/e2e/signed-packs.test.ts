import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { newKeyFile, publicPart, type KeyFile } from '@sonde/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agentUser,
  json,
  removeDir,
  runCli as runAgentCli,
  spawnAgent,
  tempDirFor,
  type AgentProcess,
  type AgentUser,
  type CliResult,
} from '../../agent/test/support/cli.js';
import { runCli as runHubCli, startHubProcess, type RunningHub } from '../../hub/test/process.js';
import { createPackFactory, startRegistry, type BuiltPack, type PackFactory, type Registry } from './support/verdaccio.js';

/**
 * Issue 12's "done when", agent half: signed packs published to a real npm
 * registry (verdaccio on loopback), installed by a real agent running as the
 * unprivileged `sonde` user, served through a real hub to an MCP client.
 * Every step goes through the operator's CLI (revocations through the hub's
 * REST API, which signs the list and pushes it to the agent); what serves is
 * read back with a real MCP call whose answer carries the serving pack
 * version, and the hub's catalog, agent view and audit are checked too.
 */

const PACKAGE = '@sonde-e2e/pack-versioned';
const PACK = 'versioned';
const PROBE = 'versioned.version';
const TOOL = 'versioned_version';
const MORE = ['/proc/loadavg', '/proc/uptime'];

let registry: Registry;
let mirror: Registry;
let factory: PackFactory;
let hub: RunningHub;
let hubDataDir: string;
let adminKey: string;
let agent: AgentProcess;
let agentHome: string;
let keysDir: string;
let user: AgentUser | undefined;
const agentName = 'signed-packs-agent';

const publisher = newKeyFile({ publisher: 'e2e' });
const compromised = newKeyFile({ publisher: 'e2e' });
const built: Record<string, BuiltPack> = {};

function sonde(args: string[], env: Record<string, string> = {}, home = agentHome): Promise<CliResult> {
  return runAgentCli(args, { home, user, env });
}

/** A pack CLI command that must succeed, parsed. */
async function sondeOk<T = Record<string, unknown>>(args: string[], home = agentHome): Promise<T> {
  const result = await sonde([...args, '--json'], {}, home);
  expect(result.code, `sonde ${args.join(' ')}: ${result.stdout}${result.stderr}`).toBe(0);
  return json<T>(result);
}

/** A pack CLI command that must be refused with exit 7 and this registry code. */
async function sondeRefused(args: string[], verifyCode: string, home = agentHome): Promise<Record<string, unknown>> {
  const result = await sonde([...args, '--json'], {}, home);
  expect(result.code, `sonde ${args.join(' ')}: ${result.stdout}${result.stderr}`).toBe(7);
  const body = json(result);
  expect(body).toMatchObject({ ok: false, error: { code: 'SONDE_ERR_PACK_REFUSED', verifyCode } });
  return body;
}

interface UpdateOutcome {
  name: string;
  from: string;
  to: string;
  outcome: 'activated' | 'pending' | 'up-to-date' | 'refused';
  added?: unknown;
  reason?: string;
}

interface ListedPack {
  name: string;
  version: string;
  state: string;
  integrity?: string;
  code?: string;
  versions?: string[];
  pending?: { version: string; added?: unknown };
}

async function listed(): Promise<ListedPack | undefined> {
  const body = await sondeOk<{ packs: ListedPack[] }>(['packs', 'list']);
  return body.packs.find((pack) => pack.name === PACK);
}

async function mcpClient(): Promise<Client> {
  const client = new Client({ name: 'signed-packs-e2e', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${hub.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${adminKey}` } } }),
  );
  return client;
}

interface Serving {
  /** The version in the probe's answer (hub → agent → pack process), undefined when the call fails. */
  probe: string | undefined;
  /** The version in the hub's per-probe tool description (tools/list), undefined when the hub lists no such tool. */
  catalog: string | undefined;
}

/** What serves the pack right now, seen by an MCP client of the hub. */
async function serving(): Promise<Serving> {
  const client = await mcpClient();
  try {
    const result = (await client.callTool({ name: 'probe', arguments: { agent: agentName, probe: PROBE, params: {} } })) as {
      content: Array<{ text: string }>;
      isError?: boolean;
    };
    const probe = result.isError ? undefined : /"version":"([^"]+)"/.exec(result.content[0]?.text ?? '')?.[1];
    const tool = (await client.listTools()).tools.find((candidate) => candidate.name === TOOL);
    const catalog = tool ? /serving pack version \(([^)]+)\)/.exec(tool.description ?? '')?.[1] : undefined;
    return { probe, catalog };
  } finally {
    await client.close();
  }
}

/** Polls until `expected` serves (undefined = nothing), in the probe's answer and in the hub's catalog; the agent applies changes within seconds. */
async function expectServing(expected: string | undefined, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen: Serving;
  for (;;) {
    seen = await serving();
    if (seen.probe === expected && seen.catalog === expected) return;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  const log = agent
    .output()
    .split('\n')
    .filter((line) => !line.includes('"probe request"'))
    .slice(-30)
    .join('\n');
  expect(seen, `serving ${expected ?? 'nothing'}; agent log tail:\n${log}`).toEqual({ probe: expected, catalog: expected });
}

function writeKeyFileFor(name: string, content: unknown): string {
  const file = path.join(keysDir, name);
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
  chmodSync(file, 0o644);
  return file;
}

async function hubRest<T>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${hub.url}${url}`, {
    method,
    headers: { authorization: `Bearer ${adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
}

/** An admin revokes on the hub: it signs the next list and pushes it to the agent, which holds it once applied. */
async function revokeOnHub(add: {
  keys?: Array<{ keyId: string; reason?: string }>;
  packs?: Array<{ pack: string; versions: string; reason?: string }>;
}): Promise<number> {
  const revoked = await hubRest<{ list: { serial: number } }>('POST', '/api/v1/revocations', add);
  expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
  const serial = revoked.body.list.serial;
  await expect
    .poll(async () => (await sondeOk<{ revocations: { serial: number } | null }>(['trust', 'list'])).revocations?.serial, {
      timeout: 15_000,
    })
    .toBe(serial);
  return serial;
}

interface HubPackView {
  name: string;
  version: string;
  state: string;
  code?: string;
  pending?: { version: string; added: string[]; permissionsSha256: string };
}

/** The agent's pack as the hub sees it (GET /api/v1/agents/:name). */
async function hubView(): Promise<HubPackView | undefined> {
  const { body } = await hubRest<{ packs: HubPackView[] }>('GET', `/api/v1/agents/${agentName}`);
  return body.packs.find((pack) => pack.name === PACK);
}

beforeAll(async () => {
  user = agentUser();
  factory = createPackFactory();
  const [first, second] = await Promise.all([startRegistry(), startRegistry()]);
  registry = first;
  mirror = second;

  // Versions as a publisher would ship them: same permissions, more permissions, a tampered copy, a revoked line, a stolen key.
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
  // Only what exists at the start is published now; each later version is published when its step runs.
  await registry.publish(built['1.0.0'].tarball);
  await registry.publish(
    factory.tamper(built['1.0.1'].tarball, 'index.js', (code) => code.replace("description: 'Answers", "description: 'Tampered: answers")),
  );

  hubDataDir = mkdtempSync(path.join(os.tmpdir(), 'sonde-e2e-hub-'));
  const hubEnv: Record<string, string> = {
    SONDE_SECRET: randomBytes(32).toString('base64'),
    SONDE_DB_PATH: path.join(hubDataDir, 'sonde.db'),
    SONDE_ADMIN_USER: 'admin',
    SONDE_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
    SONDE_PORT: '0',
    SONDE_HOST: '127.0.0.1',
    SONDE_HEARTBEAT_MS: '1000',
    SONDE_LOG_LEVEL: 'info',
  };
  hub = await startHubProcess(hubEnv);
  const hubCli = async (args: string[]): Promise<Record<string, unknown>> => {
    const result = await runHubCli([...args, '--json'], hubEnv);
    if (result.code !== 0) throw new Error(`sonde-hub ${args.join(' ')} exited ${result.code}: ${result.stdout}${result.stderr}`);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };
  adminKey = (await hubCli(['keys', 'create', '--name', 'e2e-admin', '--role', 'admin'])).rawKey as string;
  const token = (await hubCli(['tokens', 'create', '--name', agentName, '--hub-url', hub.url])).token as string;

  agentHome = tempDirFor(user, 'sonde-e2e-signed-');
  keysDir = mkdtempSync(path.join(os.tmpdir(), 'sonde-e2e-keys-'));
  chmodSync(keysDir, 0o755);
  json(await sonde(['enroll', '--hub', hub.url, '--token', token, '--name', agentName, '--json']));
  // The agent's own npm configuration names the registry, as an operator's .npmrc would.
  const npmrc = path.join(agentHome, '.npmrc');
  writeFileSync(npmrc, `registry=${registry.url}\n`);
  if (user) chownSync(npmrc, user.uid, user.gid);

  await sondeOk(['trust', 'add-key', writeKeyFileFor('publisher.pub.json', publicPart(publisher)), '--allow', '*']);
  await sondeOk(['trust', 'add-key', writeKeyFileFor('compromised.pub.json', publicPart(compromised)), '--allow', '*']);

  agent = spawnAgent({ home: agentHome, user });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const response = await fetch(`${hub.url}/api/v1/agents`, { headers: { authorization: `Bearer ${adminKey}` } });
    const agents = (await response.json()) as Array<{ name: string; status: string }>;
    if (agents.some((a) => a.name === agentName && a.status !== 'offline')) break;
    if (Date.now() > deadline) throw new Error(`agent not online: ${JSON.stringify(agents)}\n${agent.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}, 240_000);

afterAll(async () => {
  await agent?.stop();
  await hub?.stop();
  await Promise.all([registry?.stop(), mirror?.stop()]);
  factory?.cleanup();
  if (agentHome) removeDir(agentHome);
  if (keysDir) rmSync(keysDir, { recursive: true, force: true });
  if (hubDataDir) rmSync(hubDataDir, { recursive: true, force: true });
});

describe('signed packs from a real npm registry, served by an unprivileged agent', () => {
  it('installs v1.0.0 from the registry the agent .npmrc names: pending, not served', async () => {
    const installed = await sondeOk(['packs', 'install', `${PACKAGE}@1.0.0`]);
    expect(installed).toMatchObject({ name: PACK, version: '1.0.0' });
    expect(await listed()).toMatchObject({ name: PACK, state: 'pending' });
    await expectServing(undefined, 0);
  });

  it('refuses a tampered tarball with the file code and installs nothing of it', async () => {
    const refused = await sondeRefused(['packs', 'install', `${PACKAGE}@1.0.1`], 'SONDE_ERR_PACK_FILE_CHANGED');
    expect(JSON.stringify(refused)).toContain('index.js');
    expect(await listed()).toMatchObject({ version: '1.0.0', state: 'pending', versions: ['1.0.0'] });
    expect(existsSync(path.join(agentHome, 'packs/store', PACKAGE, '1.0.1'))).toBe(false);
  });

  it('serves v1.0.0 once approved', async () => {
    await sondeOk(['packs', 'approve', PACK]);
    await expectServing('1.0.0');
    expect(await listed()).toMatchObject({ version: '1.0.0', state: 'active' });
  });

  it('updates to v1.1.0 (same permissions): activated, and v1.1.0 serves', async () => {
    await registry.publish(built['1.1.0'].tarball);
    const updated = await sondeOk<{ updates: UpdateOutcome[] }>(['packs', 'update', PACK]);
    expect(updated.updates.find((p) => p.name === PACK)).toMatchObject({ from: '1.0.0', to: '1.1.0', outcome: 'activated' });
    await expectServing('1.1.0');
    expect(await listed()).toMatchObject({ version: '1.1.0', state: 'active' });
  });

  it('updates to v1.2.0 (more permissions): pending with the diff, v1.1.0 keeps serving until approved', async () => {
    await registry.publish(built['1.2.0'].tarball);
    const updated = await sondeOk<{ updates: UpdateOutcome[] }>(['packs', 'update', PACK]);
    const outcome = updated.updates.find((p) => p.name === PACK);
    expect(outcome).toMatchObject({ from: '1.1.0', to: '1.2.0', outcome: 'pending' });
    expect(JSON.stringify(outcome?.added)).toContain('/proc/uptime');
    const pack = await listed();
    expect(pack).toMatchObject({ version: '1.1.0', state: 'active', pending: { version: '1.2.0' } });
    expect(JSON.stringify(pack?.pending?.added)).toContain('/proc/uptime');
    // The hub sees the same: the serving version and what waits, with what it adds.
    await expect.poll(hubView, { timeout: 15_000 }).toMatchObject({ version: '1.1.0', state: 'active', pending: { version: '1.2.0' } });
    expect(JSON.stringify((await hubView())?.pending?.added)).toContain('/proc/uptime');
    // Well past the agent's reload interval: the old approved version is still the one answering.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await expectServing('1.1.0', 0);

    await sondeOk(['packs', 'approve', PACK]);
    await expectServing('1.2.0');
    const after = await listed();
    expect(after).toMatchObject({ version: '1.2.0', state: 'active' });
    expect(after?.pending).toBeUndefined();
  });

  it('refuses a downgrade to v1.0.0', async () => {
    const result = await sonde(['packs', 'install', `${PACKAGE}@1.0.0`, '--json']);
    expect(result.code, result.stdout + result.stderr).toBe(7);
    const error = json<{ error: { code: string; verifyCode?: string } }>(result).error;
    expect([error.code, error.verifyCode]).toContain('SONDE_ERR_PACK_DOWNGRADE');
    expect(await listed()).toMatchObject({ version: '1.2.0', state: 'active' });
    await expectServing('1.2.0', 0);
  });

  it('revoking 1.2.x on the hub (a signed list pushed to the agent) stops the loaded v1.2.0 and refuses v1.2.1 at install', async () => {
    await registry.publish(built['1.2.1'].tarball);
    await revokeOnHub({ packs: [{ pack: PACKAGE, versions: '1.2.x', reason: 'e2e: leaks' }] });
    await expectServing(undefined);
    expect(await listed()).toMatchObject({ version: '1.2.0', state: 'failed', code: 'SONDE_ERR_PACK_VERSION_REVOKED' });
    await expect.poll(hubView, { timeout: 15_000 }).toMatchObject({ state: 'failed', code: 'SONDE_ERR_PACK_VERSION_REVOKED' });
    await sondeRefused(['packs', 'install', `${PACKAGE}@1.2.1`], 'SONDE_ERR_PACK_VERSION_REVOKED');
    expect(existsSync(path.join(agentHome, 'packs/store', PACKAGE, '1.2.1'))).toBe(false);
  });

  it('refuses a pack signed by a key revoked on the hub', async () => {
    await registry.publish(built['1.4.0'].tarball);
    await revokeOnHub({ keys: [{ keyId: compromised.keyId, reason: 'e2e: stolen' }] });
    await sondeRefused(['packs', 'install', `${PACKAGE}@1.4.0`], 'SONDE_ERR_PACK_KEY_REVOKED');
    expect(existsSync(path.join(agentHome, 'packs/store', PACKAGE, '1.4.0'))).toBe(false);
  });

  it('installs the same signed tarball re-published to a second registry, with the same integrity; an admin approves it from the hub', async () => {
    await registry.publish(built['1.3.0'].tarball);
    await mirror.publish(built['1.3.0'].tarball);
    // The registry the agent's .npmrc names goes away: only the mirror can answer.
    await registry.stop();
    const installed = await sondeOk(['packs', 'install', `${PACKAGE}@1.3.0`, '--registry', mirror.url]);
    expect(installed).toMatchObject({ name: PACK, version: '1.3.0' });
    // The integrity is the content's, computed when the publisher signed: the registry it came from plays no part.
    expect(installed).toMatchObject({ integrity: built['1.3.0'].integrity });
    // Remote approval: the hub relays it only for the exact version and permissions digest the agent reports pending.
    await expect
      .poll(async () => (await hubView())?.pending, { timeout: 15_000 })
      .toMatchObject({ version: '1.3.0', permissionsSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const digest = (await hubView())!.pending!.permissionsSha256;
    const approved = await hubRest('POST', `/api/v1/agents/${agentName}/packs/${PACK}/approve`, {
      version: '1.3.0',
      permissionsSha256: digest,
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    await expectServing('1.3.0');
    expect(await listed()).toMatchObject({ version: '1.3.0', state: 'active', integrity: built['1.3.0'].integrity });
  });

  it('an agent the hub cannot reach imports the hub-signed list by hand and refuses the same packs from the mirror', async () => {
    const offline = tempDirFor(user, 'sonde-e2e-offline-');
    try {
      for (const version of ['1.2.1', '1.4.0']) await mirror.publish(built[version].tarball);
      const { body } = await hubRest<{ list: { serial: number }; key: unknown }>('GET', '/api/v1/revocations');
      expect(body.list.serial).toBe(2);
      for (const key of [publisher, compromised])
        await sondeOk(['trust', 'add-key', writeKeyFileFor(`${key.keyId}.pub.json`, publicPart(key)), '--allow', '*'], offline);
      await sondeOk(['trust', 'add-key', writeKeyFileFor('hub.pub.json', body.key), '--role', 'hub'], offline);
      await sondeOk(['trust', 'revocations', writeKeyFileFor('revocations.json', body.list)], offline);
      const forged = { ...body.list, serial: 3 };
      const stale = await sonde(['trust', 'revocations', writeKeyFileFor('forged.json', forged), '--json'], {}, offline);
      // A list whose serial was changed after the hub signed it is refused.
      expect(stale.code, stale.stdout).toBe(1);
      expect(json<{ error: { message: string } }>(stale).error.message).toMatch(/signature does not verify/);

      await sondeRefused(['packs', 'install', `${PACKAGE}@1.2.1`, '--registry', mirror.url], 'SONDE_ERR_PACK_VERSION_REVOKED', offline);
      await sondeRefused(['packs', 'install', `${PACKAGE}@1.4.0`, '--registry', mirror.url], 'SONDE_ERR_PACK_KEY_REVOKED', offline);
      const installed = await sondeOk(['packs', 'install', `${PACKAGE}@1.3.0`, '--registry', mirror.url], offline);
      expect(installed).toMatchObject({ version: '1.3.0', integrity: built['1.3.0'].integrity });
    } finally {
      removeDir(offline);
    }
  });

  it('the hub audit holds what the operator did on the host and what the hub revoked, in a verifiable chain', async () => {
    const lines = (): Promise<string[]> =>
      hubRest<{ entries: Array<{ action: string; status: string; detail: string | null }> }>('GET', '/api/v1/audit?limit=500').then(
        ({ body }) => body.entries.map((entry) => `${entry.action} ${entry.status} ${entry.detail ?? ''}`),
      );
    const expected = [
      /^agent\.pack\.install ok versioned@1\.0\.0: pending/,
      /^agent\.pack\.install denied \S+@1\.0\.1: refused .*index\.js differs from the signed digest/,
      /^agent\.pack\.approve ok versioned@1\.0\.0: approved/,
      /^agent\.pack\.update ok versioned@1\.1\.0: activated \(from 1\.0\.0\)/,
      /^agent\.pack\.update ok versioned@1\.2\.0: pending \(from 1\.1\.0\)/,
      /^agent\.pack\.approve ok versioned@1\.2\.0: approved \(from 1\.1\.0\)/,
      /^agent\.pack\.install denied \S+@1\.0\.0: refused .*older/,
      /^pack\.revoke ok revocation list serial 1: revoked @sonde-e2e\/pack-versioned@1\.2\.x/,
      /^agent\.pack\.revocations ok \*: synced by hub — serial 1/,
      /^agent\.pack\.install denied \S+@1\.2\.1: refused .*is revoked/,
      /^pack\.revoke ok revocation list serial 2: revoked key /,
      /^agent\.pack\.install denied \S+@1\.4\.0: refused .*key \w+ is revoked/,
      /^agent\.pack\.approve ok versioned@1\.3\.0: approved.*hub:e2e-admin/,
    ];
    // Pack events reach the hub with the agent's next forward: poll until the last one is there.
    await expect.poll(lines, { timeout: 15_000 }).toContainEqual(expect.stringMatching(expected.at(-1)!));
    const seen = await lines();
    for (const pattern of expected) expect(seen, String(pattern)).toContainEqual(expect.stringMatching(pattern));
    expect((await hubRest<{ ok: boolean }>('GET', '/api/v1/audit/verify?full=true')).body.ok).toBe(true);
  });
});
