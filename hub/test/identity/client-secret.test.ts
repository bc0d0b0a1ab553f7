import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_SECRET_SETTING, createOidcLogin, IdentityError, loadIdentityConfig } from '../../src/identity/index.js';
import { memoryLoginStates } from './memory-states.js';
import { startTestHub, type TestHub } from '../helpers.js';
import { startOidcProvider, type TestProvider } from '../support/oidc-provider.js';

// Requests reach the hub through inject; hub → provider (discovery, token, JWKS) is loopback network.
const PUBLIC_URL = 'http://127.0.0.1:9';
const SECRET = 'set-through-the-api-0123456789';

let provider: TestProvider;
let hub: TestHub;

beforeAll(async () => {
  provider = await startOidcProvider({
    clients: [{ client_id: 'sonde', client_secret: SECRET, redirect_uris: [`${PUBLIC_URL}/auth/oidc/callback`] }],
  });
  // No SONDE_OIDC_CLIENT_SECRET: the admin sets it through the API.
  hub = await startTestHub({ SONDE_PUBLIC_URL: PUBLIC_URL, SONDE_OIDC_ISSUER: provider.issuer, SONDE_OIDC_CLIENT_ID: 'sonde' });
});
afterAll(async () => {
  await hub?.close();
  await provider?.close();
});

const cookie = (setCookie: string | string[] | undefined, name: string): string | undefined =>
  (Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [])
    .map((line) => new RegExp(`^${name}=([^;]*)`).exec(line)?.[1])
    .find((value) => value !== undefined);

/** A browser's sign-in; returns where the hub sent it back and the session cookie if any. */
async function signIn(email: string): Promise<{ location: string; session: string | undefined }> {
  const start = await hub.app.inject({ method: 'GET', url: '/auth/oidc/login' });
  expect(start.statusCode).toBe(302);
  const binding = cookie(start.headers['set-cookie'], 'sonde_oidc')!;
  const back = await provider.login(String(start.headers.location), { accountId: email, claims: { email, email_verified: true } });
  const done = await hub.app.inject({ method: 'GET', url: `${back.pathname}${back.search}`, headers: { cookie: `sonde_oidc=${binding}` } });
  return { location: String(done.headers.location), session: cookie(done.headers['set-cookie'], 'sonde_session') || undefined };
}

const secretRoute = (method: 'GET' | 'PUT' | 'DELETE', payload?: object, key?: string) =>
  hub.app.inject({ method, url: '/api/v1/auth/oidc/client-secret', headers: hub.auth(key), ...(payload ? { payload } : {}) });

describe('the OpenID Connect client secret set through the API', () => {
  it('is sealed at rest, never returned, audited without its value, and used from the next sign-in', async () => {
    await hub.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: hub.auth(),
      payload: { email: 'ada@example.com', role: 'admin' },
    });
    expect((await secretRoute('GET')).json()).toEqual({ source: 'none' });
    // Without a secret the provider refuses the token request: the sign-in comes back refused, nothing crashes.
    const refused = await signIn('ada@example.com');
    expect(new URL(refused.location).searchParams.get('sso_error')).toBeTruthy();
    expect(refused.session).toBeUndefined();

    const member = (await hub.app.core.apiKeys.create({ name: 'member', role: 'member' })).rawKey;
    expect((await secretRoute('PUT', { clientSecret: SECRET }, member)).statusCode).toBe(403);
    expect((await secretRoute('PUT', { clientSecret: '' })).statusCode).toBe(400);
    const set = await secretRoute('PUT', { clientSecret: SECRET });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toEqual({ source: 'api' });

    const stored = await hub.app.core.store.settings.get(CLIENT_SECRET_SETTING);
    expect(stored).toMatch(/^v1:/);
    expect(stored).not.toContain(SECRET);
    expect(Buffer.from(stored!.split(':').slice(2).join(''), 'base64').toString('latin1')).not.toContain(SECRET);
    // The sealed value is bound to its setting: copied under another name it does not open.
    expect(() => hub.app.core.crypto.sealer.openText(stored!, 'another.setting')).toThrow();

    const signedIn = await signIn('ada@example.com');
    expect(signedIn.session, signedIn.location).toBeTruthy();

    const status = await secretRoute('GET');
    expect(status.json()).toEqual({ source: 'api' });
    const audit = await hub.app.inject({ method: 'GET', url: '/api/v1/audit?limit=100', headers: hub.auth() });
    expect(audit.body).toContain('identity.client_secret.set');
    expect(audit.body).not.toContain(SECRET);

    expect((await secretRoute('DELETE')).json()).toEqual({ source: 'none' });
    expect((await signIn('ada@example.com')).session).toBeUndefined();
  });

  it('is refused while the environment sets it, and when no provider is configured', async () => {
    const fromEnv = await startTestHub({
      SONDE_PUBLIC_URL: PUBLIC_URL,
      SONDE_OIDC_ISSUER: provider.issuer,
      SONDE_OIDC_CLIENT_ID: 'sonde',
      SONDE_OIDC_CLIENT_SECRET: SECRET,
    });
    const none = await startTestHub();
    try {
      const put = (h: TestHub) =>
        h.app.inject({ method: 'PUT', url: '/api/v1/auth/oidc/client-secret', headers: h.auth(), payload: { clientSecret: 'x' } });
      const envRefusal = await put(fromEnv);
      expect(envRefusal.statusCode).toBe(409);
      expect(envRefusal.body).toMatch(/comes from the environment/);
      expect((await fromEnv.app.inject({ method: 'GET', url: '/api/v1/auth/oidc/client-secret', headers: fromEnv.auth() })).json()).toEqual(
        {
          source: 'environment',
        },
      );
      const noSso = await put(none);
      expect(noSso.statusCode).toBe(409);
      expect(noSso.body).toMatch(/not configured/);
    } finally {
      await fromEnv.close();
      await none.close();
    }
  });

  it('Entra without SONDE_ENTRA_CLIENT_SECRET starts; a sign-in then names both ways to set the secret', async () => {
    const config = loadIdentityConfig({
      SONDE_ENTRA_ENABLED: 'true',
      SONDE_ENTRA_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
      SONDE_ENTRA_TENANT_ID: '00000000-0000-0000-0000-000000000002',
    });
    expect(config?.clientSecret).toBeUndefined();
    const login = createOidcLogin({
      config: config!,
      publicUrl: PUBLIC_URL,
      states: memoryLoginStates(),
      clientSecret: () => Promise.resolve(undefined),
      fetch: () => Promise.reject(new Error('no request may leave before the secret is known')),
    });
    const error = await login.begin().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdentityError);
    expect((error as IdentityError).message).toMatch(/SONDE_ENTRA_CLIENT_SECRET or PUT \/api\/v1\/auth\/oidc\/client-secret/);
  });
});
