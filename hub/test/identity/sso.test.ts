import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/services.js';
import { startTestHub, type TestHub } from '../helpers.js';
import { startOidcProvider, type TestAccount, type TestProvider } from '../support/oidc-provider.js';

// Requests reach the hub through inject; only hub → provider (discovery, token, JWKS) is network, on loopback.
const PUBLIC_URL = 'http://127.0.0.1:9';
const CALLBACK = `${PUBLIC_URL}/auth/oidc/callback`;

let provider: TestProvider;
let hub: TestHub;

beforeAll(async () => {
  provider = await startOidcProvider({
    clients: [
      {
        client_id: 'sonde',
        client_secret: 'sonde-secret-0123456789',
        redirect_uris: [CALLBACK],
        post_logout_redirect_uris: [`${PUBLIC_URL}/`],
      },
    ],
  });
  hub = await startTestHub({
    SONDE_PUBLIC_URL: PUBLIC_URL,
    SONDE_OIDC_ISSUER: provider.issuer,
    SONDE_OIDC_CLIENT_ID: 'sonde',
    SONDE_OIDC_CLIENT_SECRET: 'sonde-secret-0123456789',
    SONDE_OIDC_DISPLAY_NAME: 'Keycloak',
  });
});
afterAll(async () => {
  await hub?.close();
  await provider?.close();
});

function cookieFrom(setCookie: string | string[] | undefined, name: string): string | undefined {
  const lines = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  for (const line of lines) {
    const match = new RegExp(`^${name}=([^;]*)`).exec(line);
    if (match) return match[1];
  }
  return undefined;
}

interface Attempt {
  /** Where the hub sent the browser after the callback. */
  location: string;
  /** The session cookie, when signed in. */
  session: string | undefined;
  /** The callback query, for replaying it. */
  callback: string;
  binding: string;
}

/** A browser's sign-in: hub login → provider (test interaction route) → hub callback. */
async function signIn(account: TestAccount, tamper?: Parameters<TestProvider['tamperNextIdToken']>[0]): Promise<Attempt> {
  const start = await hub.app.inject({ method: 'GET', url: '/auth/oidc/login' });
  expect(start.statusCode).toBe(302);
  const binding = cookieFrom(start.headers['set-cookie'], 'sonde_oidc')!;
  expect(binding).toBeTruthy();
  const back = await provider.login(String(start.headers.location), account);
  if (tamper) await provider.tamperNextIdToken(tamper);
  const callback = `${back.pathname}${back.search}`;
  return { ...(await callbackWith(callback, binding)), callback, binding };
}

async function callbackWith(callback: string, binding: string): Promise<{ location: string; session: string | undefined }> {
  const done = await hub.app.inject({ method: 'GET', url: callback, headers: { cookie: `sonde_oidc=${binding}` } });
  expect(done.statusCode).toBe(302);
  const session = cookieFrom(done.headers['set-cookie'], 'sonde_session');
  return { location: String(done.headers.location), session: session || undefined };
}

const errorOf = (attempt: { location: string }) => new URL(attempt.location).searchParams.get('sso_error');

async function me(session: string) {
  const res = await hub.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: `sonde_session=${session}` } });
  return { status: res.statusCode, body: res.json<{ role?: string; name?: string }>() };
}

async function rest(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) {
  const res = await hub.app.inject({ method, url, headers: hub.auth(), ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body ? res.json<Record<string, unknown>>() : undefined };
}

async function lastSignInAudit(): Promise<AuditRecord> {
  const res = await hub.app.inject({ method: 'GET', url: '/api/v1/audit?limit=50', headers: hub.auth() });
  const entries = res.json<{ entries: AuditRecord[] }>().entries.filter((e) => e.action === 'login.sso');
  const [latest] = entries.sort((a, b) => b.seq - a.seq);
  if (!latest) throw new Error('no login.sso audit entry');
  return latest;
}

let n = 0;
const account = (claims: Record<string, unknown>): TestAccount => ({ accountId: `user-${++n}`, claims });

describe('single sign-on through the hub', () => {
  it('tells the login page which provider to offer', async () => {
    const res = await hub.app.inject({ method: 'GET', url: '/api/v1/auth/providers' });
    expect(res.json()).toEqual({
      local: { enabled: true, url: '/api/v1/auth/login' },
      sso: { kind: 'oidc', displayName: 'Keycloak', loginUrl: '/auth/oidc/login', logoutUrl: '/auth/oidc/logout' },
    });
  });

  it('a user added by e-mail signs in, gets their role and a subject; the audit says so', async () => {
    const added = await rest('POST', '/api/v1/users', { email: 'Ada@Example.com', role: 'admin' });
    expect(added.status).toBe(201);
    const attempt = await signIn(account({ email: 'ada@example.com', email_verified: true, name: 'Ada Lovelace' }));
    expect(attempt.location).toBe(`${PUBLIC_URL}/`);
    expect(attempt.session).toMatch(/^[\w-]{43}$/);
    expect(await me(attempt.session!)).toMatchObject({ status: 200, body: { role: 'admin', name: 'ada@example.com' } });
    const user = (await rest('GET', '/api/v1/users')).body as unknown as { email: string; subject: string; displayName: string }[];
    expect(user.find((u) => u.email === 'ada@example.com')).toMatchObject({
      subject: `${provider.issuer}#user-${n}`,
      displayName: 'Ada Lovelace',
    });
    expect(await lastSignInAudit()).toMatchObject({
      status: 'ok',
      actor: { name: 'ada@example.com' },
      params: { outcome: 'ok', first: true },
    });
  });

  it('refuses a wrong state and a replayed callback, each audited', async () => {
    await rest('POST', '/api/v1/users', { email: 'bob@example.com', role: 'member' });
    const ok = await signIn(account({ email: 'bob@example.com' }));
    expect(ok.session).toBeTruthy();
    const replay = await callbackWith(ok.callback, ok.binding);
    expect(errorOf(replay)).toBe('SONDE_ERR_OIDC_REPLAY');
    expect(replay.session).toBeUndefined();
    expect((await lastSignInAudit()).params).toMatchObject({ outcome: 'replayed' });
    const forged = ok.callback.replace(/state=[^&]+/, `state=${'A'.repeat(43)}`);
    expect(errorOf(await callbackWith(forged, ok.binding))).toBe('SONDE_ERR_OIDC_STATE');
    expect(await lastSignInAudit()).toMatchObject({ status: 'denied', params: { outcome: 'wrong_state' } });
  });

  it.each([
    ['wrong audience', { set: { aud: 'someone-else' } }],
    ['wrong issuer', { set: { iss: 'https://evil.example.com' } }],
    ['expired', { set: { exp: Math.floor(Date.now() / 1000) - 3600 } }],
    ['nonce mismatch', { set: { nonce: 'replayed-from-another-login' } }],
  ])('refuses an ID token with %s', async (_name, tamper) => {
    await rest('POST', '/api/v1/users', { email: `t${n + 1}@example.com`, role: 'admin' });
    const attempt = await signIn(account({ email: `t${n + 1}@example.com` }), tamper);
    expect(errorOf(attempt)).toBe('SONDE_ERR_OIDC_TOKEN');
    expect(attempt.session).toBeUndefined();
    expect((await lastSignInAudit()).params).toMatchObject({ outcome: 'invalid_id_token' });
  });

  it('reports a provider error (the user cancelled at the provider), audited', async () => {
    const start = await hub.app.inject({ method: 'GET', url: '/auth/oidc/login' });
    const binding = cookieFrom(start.headers['set-cookie'], 'sonde_oidc')!;
    const state = new URL(String(start.headers.location)).searchParams.get('state')!;
    const cancelled = await callbackWith(`/auth/oidc/callback?error=access_denied&error_description=cancelled&state=${state}`, binding);
    expect(errorOf(cancelled)).toBe('SONDE_ERR_OIDC_PROVIDER');
    expect(await lastSignInAudit()).toMatchObject({ status: 'error', params: { outcome: 'provider_error' } });
  });

  it('refuses an unknown user', async () => {
    const attempt = await signIn(account({ email: 'stranger@example.com' }));
    expect(errorOf(attempt)).toBe('SONDE_ERR_OIDC_UNKNOWN_USER');
    expect(await lastSignInAudit()).toMatchObject({ status: 'denied', params: { outcome: 'unknown_user' } });
  });

  it('disabling a user ends their live session now and refuses their next sign-in', async () => {
    const { body } = await rest('POST', '/api/v1/users', { email: 'carol@example.com', role: 'admin' });
    const acct = account({ email: 'carol@example.com' });
    const first = await signIn(acct);
    expect((await me(first.session!)).status).toBe(200);
    expect((await rest('PATCH', `/api/v1/users/${String(body!.id)}`, { enabled: false })).status).toBe(200);
    expect((await me(first.session!)).status).toBe(401);
    const again = await signIn(acct);
    expect(errorOf(again)).toBe('SONDE_ERR_OIDC_USER_DISABLED');
    expect((await lastSignInAudit()).params).toMatchObject({ outcome: 'disabled_user' });
  });

  it('removing a user ends their live session now and refuses their next sign-in', async () => {
    const { body } = await rest('POST', '/api/v1/users', { email: 'dan@example.com', role: 'member' });
    const acct = account({ email: 'dan@example.com' });
    const first = await signIn(acct);
    expect((await rest('DELETE', `/api/v1/users/${String(body!.id)}`)).status).toBe(204);
    expect((await me(first.session!)).status).toBe(401);
    expect(errorOf(await signIn(acct))).toBe('SONDE_ERR_OIDC_UNKNOWN_USER');
  });

  it('a user authorized only by a group is created at sign-in, re-created after removal, and removed with the group', async () => {
    await rest('POST', '/api/v1/groups', { groupId: 'sre', displayName: 'Site reliability', defaultRole: 'member' });
    const acct = account({ email: 'erin@example.com', groups: ['sre', 'unrelated'] });
    const first = await signIn(acct);
    expect(await me(first.session!)).toMatchObject({ status: 200, body: { role: 'member' } });
    expect((await lastSignInAudit()).params).toMatchObject({ outcome: 'group_user', viaGroups: ['sre'] });
    const users = () => rest('GET', '/api/v1/users').then((r) => r.body as unknown as { id: string; email: string; origin: string }[]);
    const erin = (await users()).find((u) => u.email === 'erin@example.com')!;
    expect(erin.origin).toBe('group');
    // Removed while the group stays: re-created at the next sign-in.
    await rest('DELETE', `/api/v1/users/${erin.id}`);
    const second = await signIn(acct);
    expect(second.session).toBeTruthy();
    // The group goes: the user goes with it, the live session ends, the next sign-in is refused.
    expect((await rest('DELETE', '/api/v1/groups/sre')).status).toBe(204);
    expect((await users()).some((u) => u.email === 'erin@example.com')).toBe(false);
    expect((await me(second.session!)).status).toBe(401);
    expect(errorOf(await signIn(acct))).toBe('SONDE_ERR_OIDC_UNKNOWN_USER');
  });

  it('highest role wins between the individual entry and the groups', async () => {
    await rest('POST', '/api/v1/users', { email: 'frank@example.com', role: 'member' });
    await rest('POST', '/api/v1/groups', { groupId: 'platform-admins', displayName: 'Platform admins', defaultRole: 'admin' });
    const attempt = await signIn(account({ email: 'frank@example.com', groups: ['platform-admins'] }));
    expect((await me(attempt.session!)).body.role).toBe('admin');
    // The group's role drops: the live session follows at its next request.
    await rest('PATCH', '/api/v1/groups/platform-admins', { defaultRole: 'member' });
    expect((await me(attempt.session!)).body.role).toBe('member');
  });

  it('a role downgrade applies to a live session at its next request', async () => {
    const { body } = await rest('POST', '/api/v1/users', { email: 'grace@example.com', role: 'admin' });
    const attempt = await signIn(account({ email: 'grace@example.com' }));
    const cookie = { cookie: `sonde_session=${attempt.session}` };
    expect((await hub.app.inject({ method: 'GET', url: '/api/v1/users', headers: cookie })).statusCode).toBe(200);
    expect((await rest('PATCH', `/api/v1/users/${String(body!.id)}`, { role: 'member' })).status).toBe(200);
    expect((await hub.app.inject({ method: 'GET', url: '/api/v1/users', headers: cookie })).statusCode).toBe(403);
  });

  it('logout ends the session here and sends the browser to the provider’s end-session endpoint', async () => {
    await rest('POST', '/api/v1/users', { email: 'heidi@example.com', role: 'member' });
    const attempt = await signIn(account({ email: 'heidi@example.com' }));
    const out = await hub.app.inject({ method: 'GET', url: '/auth/oidc/logout', headers: { cookie: `sonde_session=${attempt.session}` } });
    expect(out.statusCode).toBe(302);
    expect(String(out.headers.location)).toMatch(new RegExp(`^${provider.issuer}/session/end\\?`));
    expect((await me(attempt.session!)).status).toBe(401);
  });

  it('a member creates their own MCP keys (at most SONDE_USER_MAX_KEYS); they stop when the member is disabled', async () => {
    const { body } = await rest('POST', '/api/v1/users', { email: 'ivan@example.com', role: 'member' });
    const attempt = await signIn(account({ email: 'ivan@example.com' }));
    const cookie = { cookie: `sonde_session=${attempt.session}` };
    // A member's session gets no admin REST, but their own keys.
    expect((await hub.app.inject({ method: 'GET', url: '/api/v1/users', headers: cookie })).statusCode).toBe(403);
    const raw: string[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await hub.app.inject({
        method: 'POST',
        url: '/api/v1/me/keys',
        headers: { ...cookie, 'x-sonde-csrf': '1' },
        payload: { name: `laptop-${i}` },
      });
      expect(created.statusCode).toBe(201);
      raw.push(created.json<{ rawKey: string }>().rawKey);
    }
    const sixth = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/me/keys',
      headers: { ...cookie, 'x-sonde-csrf': '1' },
      payload: { name: 'one-too-many' },
    });
    expect(sixth.statusCode).toBe(409);
    expect(sixth.json<{ error: { message: string } }>().error.message).toMatch(/SONDE_USER_MAX_KEYS=5/);
    const listed = await hub.app.inject({ method: 'GET', url: '/api/v1/me/keys', headers: cookie });
    expect(listed.json<{ max: number; keys: unknown[] }>()).toMatchObject({ max: 5, keys: expect.any(Array) as unknown });
    expect(listed.json<{ keys: unknown[] }>().keys).toHaveLength(5);
    // The key is a member key: MCP, not the admin REST API.
    const asKey = { authorization: `Bearer ${raw[0]}` };
    expect((await hub.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: asKey })).json()).toMatchObject({
      kind: 'api_key',
      role: 'member',
    });
    expect((await hub.app.inject({ method: 'GET', url: '/api/v1/users', headers: asKey })).statusCode).toBe(403);
    // An API key cannot mint keys for itself.
    expect((await hub.app.inject({ method: 'POST', url: '/api/v1/me/keys', headers: asKey, payload: { name: 'x' } })).statusCode).toBe(403);
    await rest('PATCH', `/api/v1/users/${String(body!.id)}`, { enabled: false });
    expect((await hub.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: asKey })).statusCode).toBe(401);
  });

  it('the local admin login still works beside single sign-on', async () => {
    const res = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { user: 'admin', password: 'correct-horse-battery' },
    });
    expect(res.statusCode).toBe(200);
  });
});
