import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentUser, ensureBuilt, json, removeDir, runCli, tempDirFor } from './support/cli.js';
import { startTestHub, type TestHub } from './support/hub-double.js';
import { precondition } from '../../test/support/preconditions.js';

const user = agentUser();
const AGENT_DIST = path.resolve(import.meta.dirname, '../dist');
const isRoot = precondition(
  import.meta.url,
  'root',
  process.getuid?.() === 0,
  'not running as root: the refusal to run as root is untested',
);
let hub: TestHub;
let home: string;

beforeAll(async () => {
  ensureBuilt();
  hub = await startTestHub();
  home = tempDirFor(user);
});

afterAll(async () => {
  await hub?.close();
  if (home) removeDir(home);
});

describe.skipIf(!isRoot.holds)('as root', () => {
  it('refuses start and enroll with exit 5 before touching anything, whatever the environment says', async () => {
    const rootHome = tempDirFor(undefined);
    try {
      for (const args of [
        ['start'],
        ['start', '--json-logs'],
        ['enroll', '--hub', hub.baseUrl, '--token', hub.createToken()],
        ['packs', 'approve', 'x'],
      ]) {
        const result = await runCli(args, {
          home: rootHome,
          asRoot: true,
          env: { SONDE_ALLOW_ROOT: '1', SONDE_FORCE: '1', NODE_ENV: 'development' },
        });
        expect(result.code, args.join(' ')).toBe(5);
        expect(result.stderr).toContain('SONDE_ERR_ROOT_REFUSED');
        expect(result.stderr).toContain('There is no override');
      }
      expect(hub.enrollRequests).toHaveLength(0);
      expect(existsSync(path.join(rootHome, 'agent.key.pem'))).toBe(false);
      const asJson = await runCli(['start', '--json'], { home: rootHome, asRoot: true });
      expect(json<{ error: { code: string; exitCode: number } }>(asJson).error).toMatchObject({
        code: 'SONDE_ERR_ROOT_REFUSED',
        exitCode: 5,
      });
    } finally {
      removeDir(rootHome);
    }
  });
});

describe('command line', () => {
  it('prints --help for every command with exit 0', async () => {
    const commands = [
      [],
      ['enroll'],
      ['start'],
      ['status'],
      ['packs'],
      ['packs', 'list'],
      ['packs', 'scan'],
      ['packs', 'install'],
      ['packs', 'update'],
      ['packs', 'approve'],
      ['packs', 'remove'],
      ['audit'],
      ['update'],
    ];
    const results = await Promise.all(commands.map((args) => runCli([...args, '--help'], { home, user })));
    results.forEach((result, i) => {
      expect(result.code, commands[i].join(' ')).toBe(0);
      expect(result.stdout).toContain('Usage: sonde');
    });
  });

  it('exits 2 on usage errors', async () => {
    expect((await runCli(['frobnicate'], { home, user })).code).toBe(2);
    expect((await runCli(['start', '--frobnicate'], { home, user })).code).toBe(2);
    expect((await runCli(['enroll', '--hub', hub.baseUrl], { home, user })).code).toBe(2);
  });

  it('loads for sonde start only what reaching the hub needs', () => {
    // The start program and the runtime, as `sonde start` imports them; then the CommonJS packages that were loaded.
    const script = [
      `await import(${JSON.stringify(path.join(AGENT_DIST, 'cli/start-program.js'))});`,
      `await import(${JSON.stringify(path.join(AGENT_DIST, 'runtime/agent.js'))});`,
      `const { createRequire } = await import('node:module');`,
      `process.stdout.write(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`,
    ].join('\n');
    const loaded = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
    expect(loaded.some((file) => file.includes('/node_modules/ws/'))).toBe(true);
    // Enrollment's CSR (node-forge), pack signing (tweetnacl), the install progress bar and the other commands stay out.
    for (const absent of ['/node_modules/node-forge/', '/node_modules/tweetnacl/', '/node_modules/cli-progress/'])
      expect(loaded.filter((file) => file.includes(absent))).toEqual([]);
  });

  it('exits 3 when start runs before enrollment', async () => {
    const result = await runCli(['start', '--json'], { home, user });
    expect(result.code).toBe(3);
    expect(json<{ error: { code: string; next: string } }>(result).error).toMatchObject({
      code: 'SONDE_ERR_NOT_ENROLLED',
      next: expect.stringContaining('sonde enroll'),
    });
  });

  it('status --json works before enrollment', async () => {
    const status = json(await runCli(['status', '--json'], { home, user }));
    expect(status).toMatchObject({ enrolled: false, running: false, connected: false, packs: [] });
  });

  it('explains a hub that is down (exit 4)', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await runCli(['enroll', '--hub', `http://127.0.0.1:${port}`, '--token', 't', '--json'], { home, user });
    expect(result.code).toBe(4);
    expect(json<{ error: { code: string; message: string } }>(result).error).toMatchObject({
      code: 'SONDE_ERR_HUB_UNREACHABLE',
      message: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it('explains a URL that is not a Sonde hub (exit 4) and a malformed URL (exit 2)', async () => {
    const other = http.createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>nope</h1>'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      const result = await runCli(['enroll', '--hub', url, '--token', 't', '--json'], { home, user });
      expect(result.code).toBe(4);
      expect(json<{ error: { code: string } }>(result).error.code).toBe('SONDE_ERR_HUB_NOT_SONDE');
    } finally {
      other.close();
    }
    const bad = await runCli(['enroll', '--hub', 'not a url', '--token', 't'], { home, user });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('SONDE_ERR_HUB_URL');
  });

  it('refuses plain http:// to a hub that is not on this machine unless --insecure is given', async () => {
    for (const url of ['http://hub.example.com:3000', 'http://10.0.0.5:3000', 'http://[fd00::5]:3000']) {
      const refused = await runCli(['enroll', '--hub', url, '--token', 't', '--json'], { home, user });
      expect(refused.code, url).toBe(2);
      const error = json<{ error: { code: string; message: string } }>(refused).error;
      expect(error.code).toBe('SONDE_ERR_HUB_URL');
      expect(error.message).toContain('--insecure');
    }
    // With --insecure the URL is accepted and the request is made: a .invalid name (RFC 6761) never resolves.
    const insecure = await runCli(['enroll', '--hub', 'http://sonde-hub.invalid:3000', '--token', 't', '--insecure', '--json'], {
      home,
      user,
    });
    expect(insecure.code).toBe(4);
    expect(json<{ error: { code: string } }>(insecure).error.code).toBe('SONDE_ERR_HUB_UNREACHABLE');
    expect(existsSync(path.join(home, 'identity.json'))).toBe(false);
  });

  it('explains unknown, used and expired tokens (exit 6) and stores nothing', async () => {
    const cases: Array<[string, string]> = [
      ['enr_unknown', 'SONDE_ERR_TOKEN_INVALID'],
      [hub.createToken({ used: true }), 'SONDE_ERR_TOKEN_USED'],
      [hub.createToken({ ttlMs: -1000 }), 'SONDE_ERR_TOKEN_EXPIRED'],
    ];
    const results = await Promise.all(
      cases.map(([token]) => runCli(['enroll', '--hub', hub.baseUrl, '--token', token, '--name', 'cli-agent', '--json'], { home, user })),
    );
    results.forEach((result, i) => {
      const code = cases[i][1];
      expect(result.code, code).toBe(6);
      expect(json<{ error: { code: string; next: string } }>(result).error).toMatchObject({ code, next: expect.any(String) });
    });
    expect(existsSync(path.join(home, 'identity.json'))).toBe(false);
  });

  it('refuses to enroll twice without --force, and a name taken by another agent', async () => {
    const first = await runCli(['enroll', '--hub', hub.baseUrl, '--token', hub.createToken(), '--name', 'cli-agent', '--json'], {
      home,
      user,
    });
    expect(first.code).toBe(0);
    const again = await runCli(['enroll', '--hub', hub.baseUrl, '--token', hub.createToken(), '--name', 'cli-agent', '--json'], {
      home,
      user,
    });
    expect(json<{ error: { code: string } }>(again).error.code).toBe('SONDE_ERR_ALREADY_ENROLLED');
    const taken = await runCli(['enroll', '--force', '--hub', hub.baseUrl, '--token', hub.createToken(), '--name', 'cli-agent', '--json'], {
      home,
      user,
    });
    expect(taken.code).toBe(6);
    expect(json<{ error: { code: string } }>(taken).error.code).toBe('SONDE_ERR_NAME_TAKEN');
    // A token bound to the name re-enrolls and keeps the agent id.
    const rebound = await runCli(
      ['enroll', '--force', '--hub', hub.baseUrl, '--token', hub.createToken({ name: 'cli-agent' }), '--name', 'cli-agent', '--json'],
      { home, user },
    );
    expect(json<{ agentId: string }>(rebound).agentId).toBe(json<{ agentId: string }>(first).agentId);
  });

  it('self-update without a trust store is refused (exit 9) before anything is fetched', async () => {
    // A home of its own: enrolling (the tests above) writes the hub's revocation key into trust.json.
    const bare = tempDirFor(user);
    try {
      expect(existsSync(path.join(bare, 'trust.json'))).toBe(false);
      const result = await runCli(['update', '--json'], { home: bare, user });
      expect(result.code).toBe(9);
      expect(json<{ error: { code: string } }>(result).error.code).toBe('SONDE_ERR_UPDATE_REFUSED');
      expect(existsSync(path.join(bare, 'releases'))).toBe(false);
    } finally {
      removeDir(bare);
    }
  });
});
