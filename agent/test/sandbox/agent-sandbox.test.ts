import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectOsSandbox } from '@sonde/pack-sdk/sandbox';
import { signPackDir } from '@sonde/registry';
import {
  agentHome,
  agentUser,
  ensureBuilt,
  json,
  removeDir,
  runCli,
  spawnAgent,
  tempDirFor,
  TEST_PUBLISHER,
  type AgentProcess,
  type AgentUser,
} from '../support/cli.js';
import { startTestHub, type TestHub } from '../support/hub-double.js';
import { FIXTURE } from './setup.js';
import { precondition } from '../../../test/support/preconditions.js';

const REPO = path.resolve(import.meta.dirname, '../../..');
const bwrap = precondition(
  import.meta.url,
  'bwrap',
  detectOsSandbox()?.kind === 'bwrap',
  'no working bubblewrap (Debian package bubblewrap): pack processes get no mount namespace here',
);
const user = agentUser();
let hub: TestHub;
let home: string;
let packSource: string;
let agent: AgentProcess;

function chownTree(target: string, owner: AgentUser | undefined): void {
  if (!owner) return;
  chownSync(target, owner.uid, owner.gid);
  if (statSync(target).isDirectory()) for (const entry of readdirSync(target)) chownTree(path.join(target, entry), owner);
}

/** The hostile pack with its sonde-pack.json written from its definition, owned by the agent user. */
function prepareHostilePack(): string {
  const dir = tempDirFor(user, 'sonde-hostile-');
  const target = path.join(dir, 'hostile-pack');
  cpSync(FIXTURE, target, { recursive: true });
  const script = `const m = await import(${JSON.stringify(path.join(FIXTURE, 'index.js'))}); process.stdout.write(JSON.stringify(m.default.manifest, null, 2));`;
  writeFileSync(
    path.join(target, 'sonde-pack.json'),
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8' }),
  );
  const pkg = JSON.parse(readFileSync(path.join(target, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(
    path.join(target, 'package.json'),
    JSON.stringify({ ...pkg, sonde: { manifest: './sonde-pack.json', entry: './index.js' } }),
  );
  chmodSync(dir, 0o755);
  chownTree(dir, user);
  return target;
}

/** Packs are always signed: the hostile pack too (a signature says who published it, not that it is safe). */
async function signHostilePack(target: string): Promise<string> {
  await signPackDir(target, TEST_PUBLISHER);
  chownTree(target, user);
  return target;
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

beforeAll(async () => {
  ensureBuilt();
  hub = await startTestHub({ heartbeatIntervalMs: 1000 });
  home = agentHome(user);
  packSource = await signHostilePack(prepareHostilePack());
  const enrolled = await runCli(['enroll', '--hub', hub.baseUrl, '--token', hub.createToken(), '--name', 'sandboxed', '--json'], {
    home,
    user,
  });
  expect(enrolled.code, enrolled.stderr + enrolled.stdout).toBe(0);
  const configFile = path.join(home, 'config.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(configFile, JSON.stringify({ ...config, sandbox: { mode: 'process', limits: { graceMs: 200 } } }));
  expect((await runCli(['packs', 'install', packSource, '--json'], { home, user })).code).toBe(0);
  expect((await runCli(['packs', 'approve', 'hostile', '--json'], { home, user })).code).toBe(0);
  agent = spawnAgent({ home, user });
  await hub.waitForRegistered();
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await hub?.close();
  if (home) removeDir(home);
  if (packSource) removeDir(path.dirname(packSource));
});

describe('an agent running its packs sandboxed (sandbox.mode = process)', () => {
  it('registers its isolation level', () => {
    const register = hub.live()!.received.find((m) => m.type === 'agent.register');
    if (register?.type !== 'agent.register') throw new Error('no registration');
    expect(register.payload.isolation).toMatch(/^permission-model/);
    // The hub's agent view shows this string: a host without bubblewrap says what the pack can still reach.
    if (detectOsSandbox()?.kind === 'bwrap') expect(register.payload.isolation).toContain('+mountns:');
    else expect(register.payload.isolation).toMatch(/\(NO (mount namespace|OS sandbox)/);
    expect(register.payload.packs).toEqual([expect.objectContaining({ name: 'hostile', state: 'active' })]);
  });

  it('serves a legitimate probe through the broker', async () => {
    const reply = await hub.probe('hostile.echo', { text: 'sandboxed' });
    expect(reply.payload).toMatchObject({ status: 'ok', result: { outcome: 'sandboxed' } });
  });

  it('denies undeclared effects and reports them to the hub as agent.security', async () => {
    const exec = await hub.probe('hostile.exec.id');
    expect(exec.payload.status).toBe('denied');
    const key = await hub.probe('hostile.read.direct', { path: path.join(home, 'agent.key.pem') });
    expect(key.payload.status).toBe('error');
    expect(JSON.stringify(key.payload)).not.toContain('PRIVATE KEY');
    const spawned = await hub.probe('hostile.spawn.id');
    expect(spawned.payload.status).toBe('error');
    expect(JSON.stringify(spawned.payload)).not.toContain('uid=');
    const security = await hub.waitFor(() => {
      const events = hub.live()!.received.filter((m) => m.type === 'agent.security');
      return events.length >= 3 ? events : undefined;
    });
    const kinds = security.map((m) => (m.payload as { kind: string }).kind);
    expect(kinds).toEqual(expect.arrayContaining(['effect-refused', 'sandbox-denied']));
  });

  it.skipIf(!bwrap.holds)('cannot reach a host Unix socket (needs bubblewrap)', async () => {
    const dir = tempDirFor(user, 'sonde-uds-');
    chmodSync(dir, 0o777);
    const where = path.join(dir, 'host.sock');
    let accepted = 0;
    const server = net.createServer((socket) => {
      accepted++;
      socket.end('HOST-SECRET');
    });
    await new Promise<void>((resolve) => server.listen(where, resolve));
    chmodSync(where, 0o777);
    try {
      const reply = await hub.probe('hostile.connect.unix', { path: where });
      expect(reply.payload.status).toBe('error');
      expect(JSON.stringify(reply.payload)).toMatch(/ENOENT connecting/);
      expect(accepted).toBe(0);
    } finally {
      server.close();
      removeDir(dir);
    }
  });

  // Issue 22: the scrubber took zod's `Unrecognized key: "password"` for a secret and sent `"[REDACTED]"`.
  it('names an unknown parameter in its error, through the sandbox and the scrubber, without echoing its value', async () => {
    const single = await hub.probe('hostile.noop', { password: 'hunter2-value' });
    expect(single.payload.error?.message).toBe('hostile.noop: unknown parameter "password"');
    const reply = await hub.probe('hostile.noop', { password: 'hunter2-value', apiToken: 'tok-value' });
    expect(reply.payload.status).toBe('error');
    expect(reply.payload.error?.code).toBe('SONDE_ERR_INVALID_PARAMS');
    // Frames are canonical JSON (keys sorted), so the parameters arrive, and are named, in sorted order.
    expect(reply.payload.error?.message).toContain('unknown parameters "apiToken", "password"');
    expect(JSON.stringify(reply.payload)).not.toMatch(/REDACTED|hunter2-value|tok-value/);
    const wrongType = await hub.probe('hostile.echo', { text: 42 });
    expect(wrongType.payload.error?.message).toMatch(/expected string.*\(parameter text\)/);
  });

  it('cannot open the agent inspector by signalling it', async () => {
    const pid = agent.child.pid!;
    const reply = await hub.probe('hostile.signal.agent', { pid });
    expect(reply.payload.status).not.toBe('ok');
    expect(await isListening(9229)).toBe(false);
    expect(agent.child.exitCode).toBeNull();
  });

  it('kills a hung probe at its time limit and keeps serving', async () => {
    const hung = await hub.probe('hostile.spin', {}, { timeoutMs: 500 });
    expect(hung.payload.status).toBe('timeout');
    const after = await hub.probe('hostile.noop');
    expect(after.payload).toMatchObject({ status: 'ok', result: { outcome: 'ok' } });
  });

  it('shows the isolation level in sonde status', async () => {
    const status = json<{ isolation: string }>(await runCli(['status', '--json'], { home, user }));
    expect(status.isolation).toMatch(/^permission-model/);
  });
});
