import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOidcLogin, IdentityError, loadIdentityConfig, type IdentityErrorCode, type OidcLogin } from '../../src/identity/index.js';
import { startOidcProvider, type TestProvider } from '../support/oidc-provider.js';
import { memoryLoginStates } from './memory-states.js';

// The hub is not running here: the callback URL only has to be registered; the test carries the query back itself.
const PUBLIC_URL = 'http://127.0.0.1:9';
const CALLBACK = `${PUBLIC_URL}/auth/oidc/callback`;

let provider: TestProvider;

beforeAll(async () => {
  provider = await startOidcProvider({
    clients: [
      { client_id: 'sonde', client_secret: 'sonde-secret-0123456789', redirect_uris: [CALLBACK] },
      { client_id: 'other-app', client_secret: 'other-secret-0123456789', redirect_uris: [CALLBACK] },
    ],
  });
});
afterAll(async () => {
  await provider?.close();
});

function genericLogin(overrides: Record<string, string> = {}, now?: () => number): OidcLogin {
  const config = loadIdentityConfig({
    SONDE_OIDC_ISSUER: provider.issuer,
    SONDE_OIDC_CLIENT_ID: 'sonde',
    SONDE_OIDC_CLIENT_SECRET: 'sonde-secret-0123456789',
    SONDE_OIDC_DISPLAY_NAME: 'Keycloak',
    ...overrides,
  })!;
  return createOidcLogin({ config, publicUrl: PUBLIC_URL, states: memoryLoginStates(), now });
}

async function refusal(promise: Promise<unknown>): Promise<{ code: IdentityErrorCode; detail: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the sign-in should have been refused').toBeInstanceOf(IdentityError);
  return { code: (error as IdentityError).code, detail: (error as IdentityError).detail };
}

const alice = { accountId: 'alice', claims: { email: 'Alice@Example.com', email_verified: true, name: 'Alice A', groups: ['ops', 'dev'] } };

describe('OpenID Connect sign-in against oidc-provider', () => {
  it('signs in with code + PKCE S256, state and nonce, keyed on iss + sub', async () => {
    const login = genericLogin();
    const { authorizationUrl, binding } = await login.begin();
    const url = new URL(authorizationUrl);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('redirect_uri')).toBe(CALLBACK);
    expect(url.searchParams.get('state')).toMatch(/^[\w-]{40,}$/);
    expect(url.searchParams.get('nonce')).toMatch(/^[\w-]{40,}$/);
    // The verifier never travels in a URL.
    expect(authorizationUrl).not.toContain('code_verifier');
    const back = await provider.login(authorizationUrl, alice);
    expect(`${back.origin}${back.pathname}`).toBe(CALLBACK);
    const identity = await login.complete(back.search, binding);
    expect(identity).toMatchObject({
      subject: `${provider.issuer}#alice`,
      issuer: provider.issuer,
      email: 'alice@example.com',
      name: 'Alice A',
      groups: ['ops', 'dev'],
      tenantId: null,
    });
    expect(identity.idToken.split('.')).toHaveLength(3);
  });

  it('refuses a state it never issued, and a callback from another browser', async () => {
    const login = genericLogin();
    const { authorizationUrl, binding } = await login.begin();
    const back = await provider.login(authorizationUrl, alice);
    const forged = new URLSearchParams(back.search);
    forged.set('state', 'x'.repeat(43));
    expect((await refusal(login.complete(forged.toString(), binding))).code).toBe('SONDE_ERR_OIDC_STATE');
    const other = await refusal(login.complete(back.search, 'another-browser-binding'));
    expect(other.code).toBe('SONDE_ERR_OIDC_STATE');
    expect(other.detail).toMatch(/another browser/);
  });

  it('refuses a replayed callback, and the old code under a fresh state', async () => {
    const login = genericLogin();
    const first = await login.begin();
    const back = await provider.login(first.authorizationUrl, alice);
    await login.complete(back.search, first.binding);
    const replay = await refusal(login.complete(back.search, first.binding));
    expect(replay.code).toBe('SONDE_ERR_OIDC_REPLAY');
    // An attacker holding the code starts their own sign-in and pastes the code under its state.
    const second = await login.begin();
    const attack = new URLSearchParams(back.search);
    attack.set('state', new URL(second.authorizationUrl).searchParams.get('state')!);
    const refused = await refusal(login.complete(attack.toString(), second.binding));
    expect(refused.code).toBe('SONDE_ERR_OIDC_PROVIDER');
    expect(refused.detail).toMatch(/invalid_grant/);
  });

  it('refuses a state older than 10 minutes', async () => {
    let clock = Date.now();
    const login = genericLogin({}, () => clock);
    const { authorizationUrl, binding } = await login.begin();
    const back = await provider.login(authorizationUrl, alice);
    clock += 10 * 60_000 + 1;
    const late = await refusal(login.complete(back.search, binding));
    expect(late.code).toBe('SONDE_ERR_OIDC_STATE');
    expect(late.detail).toMatch(/10 minutes/);
  });

  it('reports a provider error on the callback', async () => {
    const login = genericLogin();
    const { authorizationUrl, binding } = await login.begin();
    const state = new URL(authorizationUrl).searchParams.get('state')!;
    const refused = await refusal(login.complete(`?error=access_denied&error_description=user+cancelled&state=${state}`, binding));
    expect(refused).toEqual({ code: 'SONDE_ERR_OIDC_PROVIDER', detail: 'the provider answered access_denied: user cancelled' });
  });

  const now = () => Math.floor(Date.now() / 1000);
  it.each([
    ['wrong audience', { set: { aud: 'other-app' } }, /aud/],
    ['wrong issuer', { set: { iss: 'https://evil.example.com' } }, /iss/],
    ['expired', { set: { exp: now() - 3600, iat: now() - 7200 } }, /exp|timestamp/i],
    ['nonce mismatch', { set: { nonce: 'not-the-nonce-we-sent' } }, /nonce/],
    ['signed by a key not in the JWKS', { otherKey: true }, /signature|key/i],
  ])('refuses an ID token with %s', async (_name, tamper, reason) => {
    const login = genericLogin();
    const { authorizationUrl, binding } = await login.begin();
    const back = await provider.login(authorizationUrl, alice);
    await provider.tamperNextIdToken(tamper);
    const refused = await refusal(login.complete(back.search, binding));
    expect(refused.code).toBe('SONDE_ERR_OIDC_TOKEN');
    expect(refused.detail).toMatch(reason);
  });

  it('never lets an e-mail the provider marks unverified claim a record', async () => {
    const login = genericLogin();
    const { authorizationUrl, binding } = await login.begin();
    const back = await provider.login(authorizationUrl, {
      accountId: 'mallory',
      claims: { email: 'alice@example.com', email_verified: false },
    });
    const identity = await login.complete(back.search, binding);
    expect(identity.email).toBeNull();
    expect(identity.subject).toBe(`${provider.issuer}#mallory`);
  });

  it('turns an unreachable issuer into a configuration error naming the discovery URL', async () => {
    const config = loadIdentityConfig({ SONDE_OIDC_ISSUER: 'http://127.0.0.1:9/realms/x', SONDE_OIDC_CLIENT_ID: 'sonde' })!;
    const login = createOidcLogin({ config, publicUrl: PUBLIC_URL, states: memoryLoginStates() });
    const refused = await refusal(login.check());
    expect(refused.code).toBe('SONDE_ERR_OIDC_CONFIG');
    expect(refused.detail).toContain('http://127.0.0.1:9/realms/x/.well-known/openid-configuration');
  });
});
