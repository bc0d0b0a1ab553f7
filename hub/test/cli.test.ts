import path from 'node:path';
import { openHubStore } from '../src/store/open.js';
import { openStoreBackdoor } from '../src/store/testing.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, makeCsr, tempDir, TEST_SECRET, testEnv } from './helpers.js';
import { runCli, startHubProcess, type RunningHub } from './process.js';

let hub: RunningHub;
let env: Record<string, string>;
let dbPath: string;
let cleanup: () => void;

beforeAll(async () => {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  dbPath = path.join(tmp.dir, 'sonde.db');
  env = testEnv(dbPath, { SONDE_LOG_LEVEL: 'info' });
  hub = await startHubProcess(env);
  console.log(`hub start → /health: ${hub.startToHealthMs} ms`);
});
afterAll(async () => {
  await hub.stop();
  cleanup();
});

const adminEnv = () => ({ SONDE_SECRET: TEST_SECRET, SONDE_DB_PATH: dbPath });

describe('sonde-hub headless administration (while the hub runs)', () => {
  it('keys create prints the raw key once; it works at once against the running hub', async () => {
    const created = await runCli(
      ['keys', 'create', '--name', 'ops', '--role', 'admin', '--agents', 'prod-*', '--agents', 'db-*', '--probes', 'system.*', '--json'],
      adminEnv(),
    );
    expect(created.code).toBe(0);
    const { rawKey, key } = JSON.parse(created.stdout) as { rawKey: string; key: { id: string; policy: unknown } };
    expect(key.policy).toEqual({ allowedAgents: ['prod-*', 'db-*'], allowedProbes: ['system.*'], allowedClients: [] });
    const res = await fetch(`${hub.url}/api/v1/agents`, { headers: { authorization: `Bearer ${rawKey}` } });
    expect(res.status).toBe(200);

    const list = await runCli(['keys', 'list'], adminEnv());
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('ops');
    expect(list.stdout).not.toContain(rawKey);

    const revoked = await runCli(['keys', 'revoke', 'ops'], adminEnv());
    expect(revoked.code).toBe(0);
    expect((await fetch(`${hub.url}/api/v1/agents`, { headers: { authorization: `Bearer ${rawKey}` } })).status).toBe(401);
    expect((await runCli(['keys', 'revoke', 'nobody'], adminEnv())).code).toBe(4);
  });

  it('plain keys create prints the key on the first line', async () => {
    const created = await runCli(['keys', 'create', '--name', 'plain', '--role', 'member'], adminEnv());
    expect(created.code).toBe(0);
    expect(created.stdout.split('\n')[0]).toMatch(/^sonde_[A-Za-z0-9_-]{43}$/);
  });

  it('tokens create prints a bound token and the agent command; the token enrolls against the running hub', async () => {
    const created = await runCli(['tokens', 'create', '--name', 'edge-1', '--hub-url', hub.url], adminEnv());
    expect(created.code).toBe(0);
    const token = created.stdout.split('\n')[0];
    expect(created.stdout).toContain(`sonde enroll --hub ${hub.url} --token ${token} --name edge-1`);
    const res = await fetch(`${hub.url}/api/v1/enroll`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'edge-1', csrPem: makeCsr('edge-1'), agentVersion: '0.1.0' }),
    });
    expect(res.status).toBe(201);
  });

  it('tokens create without --hub-url prints the address the running hub serves, not a guess from the CLI environment', async () => {
    // The CLI's SONDE_PORT says 3000; the hub listens on another port (0 → picked by the OS) and recorded it at start.
    const created = await runCli(['tokens', 'create', '--json'], { ...adminEnv(), SONDE_PORT: '3000' });
    expect(created.code, created.stderr).toBe(0);
    const { command, hubUrl } = JSON.parse(created.stdout) as { command: string; hubUrl: string };
    expect(hubUrl).toBe(hub.url);
    expect(command).toContain(`--hub ${hub.url} `);
    // A database no hub has served, with a wildcard listen address: no dialable URL is known, so it says what to pass.
    const fresh = tempDir();
    try {
      const refused = await runCli(['tokens', 'create'], {
        SONDE_SECRET: TEST_SECRET,
        SONDE_DB_PATH: path.join(fresh.dir, 'new.db'),
        SONDE_HOST: '0.0.0.0',
      });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/0\.0\.0\.0.*pass --hub-url or set SONDE_PUBLIC_URL/);
    } finally {
      fresh.cleanup();
    }
  });

  it('every bad command line exits 2 with one line, a "did you mean" where one fits, and where to read the usage', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['kyes'], /^sonde-hub: unknown command 'kyes' \(Did you mean keys\?\)\nRun: sonde-hub --help\n$/],
      [['keys', 'rotat', 'x'], /unknown command 'rotat' \(Did you mean rotate\?\)\nRun: sonde-hub keys --help/],
      // A mistyped flag is named even though the required --name is then missing.
      [['keys', 'create', '--nmae', 'x', '--role', 'admin'], /unknown option '--nmae' \(Did you mean --name\?\)/],
      [['keys', 'create', '--name', 'x'], /required option '--role <role>' not specified\nRun: sonde-hub keys create --help/],
      [['tokens', 'create', '--hub-url'], /option '--hub-url <url>' argument missing/],
      [['users', 'lst'], /Did you mean list\?/],
      [['agents', 'remove'], /missing required argument 'idOrName'/],
      [['serve', 'extra'], /too many arguments for 'serve'/],
      [['keys'], /Usage: sonde-hub keys/],
    ];
    for (const [args, expected] of cases) {
      const result = await runCli(args, adminEnv());
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(expected);
      expect(result.stdout).toBe('');
    }
    expect((await runCli(['keys', '--help'], adminEnv())).code).toBe(0);
  });

  it('keys rotate: the new value works at once against the running hub, the old one no longer does', async () => {
    const created = JSON.parse((await runCli(['keys', 'create', '--name', 'rot', '--role', 'admin', '--json'], adminEnv())).stdout);
    const rotated = await runCli(['keys', 'rotate', 'rot', '--json'], adminEnv());
    expect(rotated.code, rotated.stderr).toBe(0);
    const { rawKey } = JSON.parse(rotated.stdout) as { rawKey: string };
    expect(rawKey).not.toBe(created.rawKey);
    const status = async (key: string) => (await fetch(`${hub.url}/api/v1/agents`, { headers: { authorization: `Bearer ${key}` } })).status;
    expect(await status(rawKey)).toBe(200);
    expect(await status(created.rawKey as string)).toBe(401);
    expect((await runCli(['keys', 'rotate', 'nobody'], adminEnv())).code).toBe(4);
  });

  it('tokens list/revoke and agents list/show/remove work on the database of the running hub', async () => {
    const token = JSON.parse((await runCli(['tokens', 'create', '--name', 'cli-agent', '--json'], adminEnv())).stdout) as {
      id: string;
      token: string;
    };
    const spare = JSON.parse((await runCli(['tokens', 'create', '--json'], adminEnv())).stdout) as { id: string; token: string };
    const listed = JSON.parse((await runCli(['tokens', 'list', '--json'], adminEnv())).stdout) as Array<{ id: string; state: string }>;
    expect(listed).toEqual(expect.arrayContaining([expect.objectContaining({ id: spare.id, state: 'active' })]));
    expect(JSON.stringify(listed)).not.toContain(spare.token);
    expect((await runCli(['tokens', 'revoke', spare.id], adminEnv())).code).toBe(0);
    expect((await runCli(['tokens', 'revoke', 'no-such-token'], adminEnv())).code).toBe(4);
    const enroll = (raw: string) =>
      fetch(`${hub.url}/api/v1/enroll`, {
        method: 'POST',
        headers: { authorization: `Bearer ${raw}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'cli-agent', csrPem: makeCsr('cli-agent'), agentVersion: '0.1.0' }),
      });
    expect((await enroll(spare.token)).status).toBe(401);
    expect((await enroll(token.token)).status).toBe(201);

    const agents = JSON.parse((await runCli(['agents', 'list', '--json'], adminEnv())).stdout) as Array<{ name: string }>;
    expect(agents.map((a) => a.name)).toContain('cli-agent');
    const shown = await runCli(['agents', 'show', 'cli-agent'], adminEnv());
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/cli-agent\s+enrolled/);
    expect((await runCli(['agents', 'show', 'nobody'], adminEnv())).code).toBe(4);
    expect((await runCli(['agents', 'remove', 'cli-agent'], adminEnv())).code).toBe(0);
    const again = await runCli(['agents', 'remove', 'cli-agent'], adminEnv());
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already removed/);
    const afterRemove = JSON.parse((await runCli(['agents', 'list', '--json'], adminEnv())).stdout) as Array<{ name: string }>;
    expect(afterRemove.map((a) => a.name)).not.toContain('cli-agent');
    // The running hub sees the removal: REST shows it removed.
    const admin = JSON.parse((await runCli(['keys', 'create', '--name', 'fleet-check', '--role', 'admin', '--json'], adminEnv())).stdout);
    const detail = await fetch(`${hub.url}/api/v1/agents/cli-agent`, { headers: { authorization: `Bearer ${admin.rawKey}` } });
    expect(((await detail.json()) as { removedAt: string | null }).removedAt).not.toBeNull();
  });

  it('rejects bad input with a coded one-line error and exit code 2', async () => {
    const bad = await runCli(['keys', 'create', '--name', 'x', '--role', 'root'], adminEnv());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^sonde-hub: SONDE_ERR_VALIDATION: /);
    const noSecret = await runCli(['keys', 'list'], { SONDE_DB_PATH: dbPath });
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toMatch(/SONDE_ERR_CONFIG: SONDE_SECRET is required/);
    expect(noSecret.stderr).not.toMatch(/\n\s+at /);
  });

  it('a wrong SONDE_SECRET fails with exit code 3 and a clear message, never garbage', async () => {
    const wrong = await runCli(['keys', 'list'], { SONDE_SECRET: 'a-different-secret-that-is-long-enough', SONDE_DB_PATH: dbPath });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/SONDE_ERR_WRONG_SECRET: SONDE_SECRET does not match/);
    expect(wrong.stderr).not.toMatch(/\n\s+at /);
  });

  it('audit verify passes, every CLI action is audited, and tampering fails it with exit code 5', async () => {
    const ok = await runCli(['audit', 'verify', '--full', '--json'], adminEnv());
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, full: true });
    const store = await openHubStore(dbPath);
    const entries = await store.audit.query({ limit: 1000 });
    await store.close();
    const cliActions = entries.filter((entry) => entry.actor.kind === 'cli').map((entry) => entry.action);
    expect(cliActions).toEqual(expect.arrayContaining(['api_key.create', 'api_key.revoke', 'enrollment_token.create', 'audit.verify']));
    const backdoor = await openStoreBackdoor(dbPath);
    await backdoor.editAuditRow(2, { detail: 'rewritten' });
    await backdoor.close();
    const broken = await runCli(['audit', 'verify', '--full'], adminEnv());
    expect(broken.code).toBe(5);
    expect(broken.stderr).toMatch(/SONDE_ERR_AUDIT_BROKEN: first broken entry 2/);
  });

  it('--help documents the exit codes', async () => {
    const help = await runCli(['--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes:[\s\S]*3 {2}SONDE_SECRET does not match/);
  });

  it('the server log carries no secret', () => {
    expect(hub.output()).not.toContain(TEST_SECRET);
    expect(hub.output()).not.toContain(ADMIN_PASSWORD);
    expect(hub.output()).not.toMatch(/sonde_[A-Za-z0-9_-]{43}/);
  });
});
