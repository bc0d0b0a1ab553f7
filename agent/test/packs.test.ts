import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { signPackDir } from '@sonde/registry';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  agentUser,
  ensureBuilt,
  json,
  prepareFixturePack,
  REPO,
  removeDir,
  runCli,
  spawnAgent,
  agentHome,
  signedPackCopies,
  TEST_PUBLISHER,
  type AgentProcess,
} from './support/cli.js';
import { startTestHub, type TestHub } from './support/hub-double.js';

const user = agentUser();
let hub: TestHub;
let home: string;
let fixture: string;
let agent: AgentProcess | undefined;

interface Listing {
  packs: Array<{ name: string; state: string; reason?: string; version: string }>;
}

beforeAll(async () => {
  ensureBuilt();
  hub = await startTestHub({ heartbeatIntervalMs: 1000 });
  home = agentHome(user);
  fixture = await prepareFixturePack(user);
  const enrolled = await runCli(['enroll', '--hub', hub.baseUrl, '--token', hub.createToken(), '--name', 'packs-agent', '--json'], {
    home,
    user,
  });
  expect(enrolled.code).toBe(0);
  // Small limits so the concurrency test needs few requests.
  const config = JSON.parse(readFileSync(path.join(home, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(path.join(home, 'config.json'), JSON.stringify({ ...config, maxConcurrency: 1, maxQueue: 1 }));
});

afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});

afterAll(async () => {
  await hub?.close();
  if (home) removeDir(home);
  if (fixture) removeDir(path.dirname(fixture));
});

async function startAndRegister(): Promise<void> {
  const before = hub.connections.filter((c) => c.registered).length;
  agent = spawnAgent({ home, user });
  await hub.waitForRegistered(before + 1);
}

const installedDir = (): string => path.join(home, 'packs/store/@sonde/pack-fixture/1.0.0');
const installedManifest = (): string => path.join(installedDir(), 'sonde-pack.json');
const installedCode = (): string => path.join(installedDir(), 'index.js');

describe('pack lifecycle', () => {
  it('installs a local directory by copying it, as PENDING, and lists it', async () => {
    const installed = await runCli(['packs', 'install', fixture, '--json'], { home, user });
    expect(installed.code, installed.stderr).toBe(0);
    expect(json(installed)).toMatchObject({ name: 'fixture', state: 'pending', source: { kind: 'directory' } });
    const list = json<Listing>(await runCli(['packs', 'list', '--json'], { home, user }));
    expect(list.packs).toEqual([
      expect.objectContaining({ name: 'fixture', state: 'pending', reason: expect.stringContaining('not approved') }),
    ]);
  });

  it('does not serve a pending pack, and says so at registration', async () => {
    await startAndRegister();
    const register = hub.live()!.received.find((m) => m.type === 'agent.register');
    expect(register?.type === 'agent.register' && register.payload.packs).toEqual([
      expect.objectContaining({ name: 'fixture', state: 'pending' }),
    ]);
    const reply = await hub.probe('fixture.echo', { text: 'hi' });
    expect(reply.payload).toMatchObject({ status: 'error', error: { code: 'SONDE_ERR_UNKNOWN_PROBE' } });
  });

  it('applies an approval to the running agent and tells the hub with agent.packs', async () => {
    await startAndRegister();
    const record = hub.live()!;
    expect((await runCli(['packs', 'approve', 'fixture'], { home, user })).code).toBe(0);
    const update = await hub.waitFor(() => record.received.find((m) => m.type === 'agent.packs'), 10_000, 'agent.packs');
    expect(update.type === 'agent.packs' && update.payload.packs).toEqual([expect.objectContaining({ name: 'fixture', state: 'active' })]);
    expect((await hub.probe('fixture.echo', { text: 'now' })).payload).toMatchObject({ status: 'ok', result: { stdout: 'now\n' } });
    // Withdrawing the approval stops serving it, again without a restart.
    writeFileSync(path.join(home, 'approvals.json'), JSON.stringify({ packs: {} }));
    await hub.waitFor(() => record.received.filter((m) => m.type === 'agent.packs').length >= 2, 10_000, 'second agent.packs');
    expect((await hub.probe('fixture.echo', { text: 'again' })).payload.status).toBe('error');
  });

  it('serves it after approval, with bounded concurrency and the manifest timeout', async () => {
    const approved = await runCli(['packs', 'approve', 'fixture', '--json'], { home, user });
    expect(json(approved)).toMatchObject({ ok: true, permissionsSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    await startAndRegister();
    expect((await hub.probe('fixture.echo', { text: 'hi' })).payload.status).toBe('ok');

    // maxConcurrency 1 + maxQueue 1: one runs, one waits, the third is refused at once.
    const replies = await Promise.all([
      hub.probe('fixture.sleep', { ms: 600 }),
      hub.probe('fixture.sleep', { ms: 10 }),
      hub.probe('fixture.sleep', { ms: 10 }),
    ]);
    const statuses = replies.map((r) => r.payload.status).sort();
    expect(statuses).toEqual(['error', 'ok', 'ok']);
    expect(replies.find((r) => r.payload.status === 'error')!.payload.error!.code).toBe('SONDE_ERR_BUSY');

    const slow = await hub.probe('fixture.sleep', { ms: 3000 }, { timeoutMs: 300 });
    expect(slow.payload).toMatchObject({ status: 'timeout', error: { code: 'SONDE_ERR_TIMEOUT' } });
  });

  it('refuses the approved version once its signed manifest is edited on disk (verified at every load)', async () => {
    const manifestFile = installedManifest();
    const original = readFileSync(manifestFile, 'utf8');
    const widened = JSON.parse(original) as { permissions: { files: string[] } };
    widened.permissions.files.push('/etc/**');
    writeFileSync(manifestFile, JSON.stringify(widened));
    try {
      const list = json<Listing>(await runCli(['packs', 'list', '--json'], { home, user }));
      expect(list.packs[0]).toMatchObject({ state: 'failed', code: 'SONDE_ERR_PACK_MANIFEST_MISMATCH' });
    } finally {
      writeFileSync(manifestFile, original);
    }
  });

  it('holds a signed pack pending when its code asks for more than its signed, approved manifest', async () => {
    const codeFile = installedCode();
    const original = readFileSync(codeFile, 'utf8');
    writeFileSync(codeFile, original.replace("files: ['/tmp/**']", "files: ['/tmp/**', '/etc/**']"));
    // A publisher could sign such a pack: the signature verifies, the runtime check must still hold it.
    await signPackDir(installedDir(), TEST_PUBLISHER);
    try {
      await startAndRegister();
      const record = hub.live()!;
      // A probe racing the pack's start is refused too: the runner checks the code's permissions before anything runs.
      expect(['denied', 'error']).toContain((await hub.probe('fixture.echo', { text: 'hi' })).payload.status);
      // The agent registers once its packs are verified, then corrects the state when the pack's process has loaded.
      const update = await hub.waitFor(() => record.received.find((m) => m.type === 'agent.packs'), 10_000, 'agent.packs');
      expect(update.type === 'agent.packs' && update.payload.packs[0]).toMatchObject({
        state: 'pending',
        reason: expect.stringContaining('code declares other permissions'),
      });
      expect((await hub.probe('fixture.echo', { text: 'hi' })).payload.status).toBe('error');
    } finally {
      writeFileSync(codeFile, original);
      await signPackDir(installedDir(), TEST_PUBLISHER);
    }
  });

  it('scan evaluates detection rules and marks installed packs', async () => {
    const result = json<{ results: Array<{ pack: string; installed: boolean; matched: string[] }> }>(
      await runCli(['packs', 'scan', '--json'], { home, user }),
    );
    expect(result.results).toContainEqual(expect.objectContaining({ pack: 'fixture', installed: true, matched: ['command echo'] }));
  });

  it('removes a pack and its approval', async () => {
    expect((await runCli(['packs', 'remove', 'fixture', '--json'], { home, user })).code).toBe(0);
    expect(json<Listing>(await runCli(['packs', 'list', '--json'], { home, user })).packs).toEqual([]);
    const missing = await runCli(['packs', 'approve', 'fixture', '--json'], { home, user });
    expect(missing.code).toBe(7);
  });

  it('refuses an integration pack: those run on the hub', async () => {
    const [signedHttp] = await signedPackCopies([path.join(REPO, 'packs/http')], user);
    const refused = await runCli(['packs', 'install', signedHttp, '--json'], { home, user });
    expect(refused.code, refused.stdout + refused.stderr).toBe(7);
    expect(refused.stdout).toContain('integration pack');
    expect(json<Listing>(await runCli(['packs', 'list', '--json'], { home, user })).packs.map((p) => p.name)).not.toContain('http');
  });
});
