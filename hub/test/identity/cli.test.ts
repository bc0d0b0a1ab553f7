import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, TEST_SECRET, testEnv } from '../helpers.js';
import { runCli, startHubProcess, type RunningHub } from '../process.js';
import { startOidcProvider, type TestProvider } from '../support/oidc-provider.js';

/** A port free right now: the hub's public URL (and so the redirect URI) must be known before it starts. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let hub: RunningHub;
let provider: TestProvider;
let dbPath: string;
let cleanup: () => void;
let hubUrl: string;

beforeAll(async () => {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  dbPath = path.join(tmp.dir, 'sonde.db');
  const port = await freePort();
  hubUrl = `http://127.0.0.1:${port}`;
  provider = await startOidcProvider({
    clients: [{ client_id: 'sonde', client_secret: 'cli-test-secret-0123456789', redirect_uris: [`${hubUrl}/auth/oidc/callback`] }],
  });
  hub = await startHubProcess(
    testEnv(dbPath, {
      SONDE_LOG_LEVEL: 'info',
      SONDE_PORT: String(port),
      SONDE_PUBLIC_URL: hubUrl,
      SONDE_OIDC_ISSUER: provider.issuer,
      SONDE_OIDC_CLIENT_ID: 'sonde',
      SONDE_OIDC_CLIENT_SECRET: 'cli-test-secret-0123456789',
    }),
  );
});
afterAll(async () => {
  await hub?.stop();
  await provider?.close();
  cleanup?.();
});

const adminEnv = () => ({ SONDE_SECRET: TEST_SECRET, SONDE_DB_PATH: dbPath });

/** A browser against the running hub process: login → provider → callback, cookies by hand. */
async function browserSignIn(accountId: string, claims: Record<string, unknown>): Promise<{ location: string; session?: string }> {
  const start = await fetch(`${hub.url}/auth/oidc/login`, { redirect: 'manual' });
  expect(start.status).toBe(302);
  const binding = /sonde_oidc=([^;]+)/.exec(start.headers.getSetCookie().join('\n'))![1];
  const back = await provider.login(start.headers.get('location')!, { accountId, claims });
  const done = await fetch(back, { redirect: 'manual', headers: { cookie: `sonde_oidc=${binding}` } });
  const session = /sonde_session=([^;]+)/.exec(done.headers.getSetCookie().join('\n'))?.[1];
  return { location: done.headers.get('location') ?? '', session: session || undefined };
}

const me = (session: string) => fetch(`${hub.url}/api/v1/auth/me`, { headers: { cookie: `sonde_session=${session}` } });

describe('sonde-hub users / groups against a running hub with single sign-on', () => {
  it('users add → sign-in works; set-role and disable apply to the live session', async () => {
    const added = await runCli(['users', 'add', 'Ops@Example.com', '--role', 'admin', '--json'], adminEnv());
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ email: 'ops@example.com', role: 'admin', subject: null, origin: 'admin' });

    const signed = await browserSignIn('ops-1', { email: 'ops@example.com', name: 'Ops Person' });
    expect(signed.location).toBe(`${hubUrl}/`);
    expect(await (await me(signed.session!)).json()).toMatchObject({ role: 'admin' });

    expect((await runCli(['users', 'set-role', 'ops@example.com', 'member'], adminEnv())).code).toBe(0);
    expect(await (await me(signed.session!)).json()).toMatchObject({ role: 'member' });

    const listed = await runCli(['users', 'list'], adminEnv());
    expect(listed.stdout).toMatch(/ops@example\.com\s+member\s+enabled\s+added\s+last sign-in/);

    expect((await runCli(['users', 'disable', 'ops@example.com'], adminEnv())).code).toBe(0);
    expect((await me(signed.session!)).status).toBe(401);
    const again = await browserSignIn('ops-1', { email: 'ops@example.com' });
    expect(again.location).toContain('sso_error=SONDE_ERR_OIDC_USER_DISABLED');
  });

  it('groups add → a member signs in; groups remove → the user and their session go', async () => {
    expect((await runCli(['groups', 'add', 'oncall', '--name', 'On call', '--role', 'member'], adminEnv())).code).toBe(0);
    const signed = await browserSignIn('oncall-1', { email: 'pager@example.com', groups: ['oncall'] });
    expect(signed.session).toBeTruthy();
    const removed = await runCli(['groups', 'remove', 'oncall'], adminEnv());
    expect(removed.stdout).toContain('1 user(s)');
    expect((await me(signed.session!)).status).toBe(401);
    expect((await runCli(['groups', 'remove', 'oncall'], adminEnv())).code).toBe(4);
  });

  it('the audit chain still verifies after sign-ins and CLI changes from two processes', async () => {
    const verify = await runCli(['audit', 'verify', '--json'], adminEnv());
    expect(verify.code).toBe(0);
  });
});
