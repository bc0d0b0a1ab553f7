import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createOidcLogin,
  IdentityConfigError,
  IdentityError,
  loadIdentityConfig,
  type IdentityErrorCode,
  type OidcLogin,
} from '../../src/identity/index.js';
import { startOidcProvider, type TestProvider } from '../support/oidc-provider.js';
import { memoryLoginStates } from './memory-states.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OTHER_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';
const USER_OID = '4f9a1c2e-5b7d-4e8a-9c3f-2a6b8d0e1f47';
const PUBLIC_URL = 'http://127.0.0.1:9';
const CALLBACK = `${PUBLIC_URL}/auth/oidc/callback`;
const fixture = (name: string) => readFileSync(new URL(`../fixtures/entra/${name}`, import.meta.url), 'utf8');

const entraEnv = (extra: Record<string, string> = {}) => ({
  SONDE_ENTRA_ENABLED: 'true',
  SONDE_ENTRA_CLIENT_ID: 'b50703d7-d12b-4ddc-8758-91053fe0aba4',
  SONDE_ENTRA_TENANT_ID: TENANT,
  SONDE_ENTRA_CLIENT_SECRET: 'entra-secret-value',
  ...extra,
});

async function refusal(promise: Promise<unknown>): Promise<{ code: IdentityErrorCode; detail: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the sign-in should have been refused').toBeInstanceOf(IdentityError);
  return { code: (error as IdentityError).code, detail: (error as IdentityError).detail };
}

describe('Entra configuration', () => {
  it('discovers the tenant’s v2.0 document on login.microsoftonline.com (recorded document)', async () => {
    const asked: string[] = [];
    const recorded: typeof fetch = (input) => {
      const url = String(input instanceof Request ? input.url : input);
      asked.push(url);
      return Promise.resolve(new Response(fixture('discovery-tenant.json'), { headers: { 'content-type': 'application/json' } }));
    };
    const config = loadIdentityConfig(entraEnv())!;
    expect(config).toMatchObject({ kind: 'entra', displayName: 'Microsoft', issuer: `https://login.microsoftonline.com/${TENANT}/v2.0` });
    const login = createOidcLogin({ config, publicUrl: 'https://sonde.example.com', states: memoryLoginStates(), fetch: recorded });
    const { authorizationUrl } = await login.begin();
    expect(asked).toEqual([`https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`]);
    const url = new URL(authorizationUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/authorize`);
    expect(url.searchParams.get('redirect_uri')).toBe('https://sonde.example.com/auth/oidc/callback');
    expect(url.searchParams.get('scope')).toBe('openid profile email');
    expect(await login.endSessionUrl()).toMatch(new RegExp(`^https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/logout\\?`));
  });

  it('accepts the templated issuer of the multi-tenant document and requires an allow-list', async () => {
    expect(() => loadIdentityConfig(entraEnv({ SONDE_ENTRA_TENANT_ID: 'organizations' }))).toThrow(
      /SONDE_ENTRA_ALLOWED_TENANTS is required/,
    );
    const config = loadIdentityConfig(
      entraEnv({ SONDE_ENTRA_TENANT_ID: 'organizations', SONDE_ENTRA_ALLOWED_TENANTS: `${TENANT}, ${OTHER_TENANT}` }),
    )!;
    expect(config.entra?.allowedTenants).toEqual([TENANT, OTHER_TENANT]);
    const asked: string[] = [];
    const recorded: typeof fetch = (input) => {
      asked.push(String(input instanceof Request ? input.url : input));
      return Promise.resolve(new Response(fixture('discovery-common.json'), { headers: { 'content-type': 'application/json' } }));
    };
    const login = createOidcLogin({ config, publicUrl: PUBLIC_URL, states: memoryLoginStates(), fetch: recorded });
    await login.check();
    expect(asked).toEqual(['https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration']);
  });

  it('names every missing or wrong variable, one line each', () => {
    let error: unknown;
    try {
      loadIdentityConfig({ SONDE_ENTRA_ENABLED: 'true', SONDE_ENTRA_TENANT_ID: 'not a tenant' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IdentityConfigError);
    expect((error as IdentityConfigError).problems.join('\n')).toMatch(/^SONDE_ENTRA_TENANT_ID must be a directory \(tenant\) id/m);
    let missing: unknown;
    try {
      loadIdentityConfig({ SONDE_ENTRA_ENABLED: 'true' });
    } catch (e) {
      missing = e;
    }
    expect((missing as IdentityConfigError).problems).toEqual([
      expect.stringMatching(/^SONDE_ENTRA_CLIENT_ID is required/),
      expect.stringMatching(/^SONDE_ENTRA_TENANT_ID is required/),
      // No secret is not a start-up error: it may be set through the API (client-secret.test.ts).
    ]);
    expect(() => loadIdentityConfig(entraEnv({ SONDE_OIDC_ISSUER: 'https://idp.example.com', SONDE_OIDC_CLIENT_ID: 'x' }))).toThrow(
      /cannot both be set/,
    );
    expect(() => loadIdentityConfig({ SONDE_OIDC_ISSUER: 'http://idp.example.com', SONDE_OIDC_CLIENT_ID: 'x' })).toThrow(/must use https/);
    expect(loadIdentityConfig({})).toBeUndefined();
  });
});

/** Microsoft Graph on loopback, answering with the recorded documents. */
async function startGraph(mode: { current: 'groups' | 'forbidden' }) {
  const requests: { url: string; authorization: string | undefined }[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', authorization: req.headers.authorization });
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    res.setHeader('content-type', 'application/json');
    if (mode.current === 'forbidden') {
      res.statusCode = 403;
      res.end(fixture('graph-forbidden.json'));
      return;
    }
    const page = req.url?.includes('$skiptoken=') ? 'graph-transitive-groups-page2.json' : 'graph-transitive-groups-page1.json';
    res.end(fixture(page).replaceAll('https://graph.microsoft.com', origin));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('Entra sign-in against oidc-provider standing in for login.microsoftonline.com', () => {
  let single: TestProvider;
  let multi: TestProvider;
  let graph: Awaited<ReturnType<typeof startGraph>>;
  const graphMode = { current: 'groups' as 'groups' | 'forbidden' };
  const client = (graphUrl: string) => ({
    client_id: 'b50703d7-d12b-4ddc-8758-91053fe0aba4',
    client_secret: 'entra-secret-value',
    redirect_uris: [CALLBACK],
    grant_types: ['authorization_code', 'client_credentials'],
    // Entra's default for confidential clients; openid-client sends the secret in the body.
    token_endpoint_auth_method: 'client_secret_post',
    scope: `openid profile email ${graphUrl}/.default`,
  });

  beforeAll(async () => {
    graph = await startGraph(graphMode);
    [single, multi] = await Promise.all([
      startOidcProvider({ mountPath: `/${TENANT}/v2.0`, clients: [client(graph.url)], extraScopes: [`${graph.url}/.default`] }),
      startOidcProvider({ mountPath: '/organizations/v2.0', clients: [client(graph.url)], extraScopes: [`${graph.url}/.default`] }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([single?.close(), multi?.close(), graph?.close()]);
  });

  const entraLogin = (provider: TestProvider, extra: Record<string, string> = {}): OidcLogin =>
    createOidcLogin({
      config: loadIdentityConfig(entraEnv({ SONDE_ENTRA_AUTHORITY: provider.origin, SONDE_ENTRA_GRAPH_URL: graph.url, ...extra }))!,
      publicUrl: PUBLIC_URL,
      states: memoryLoginStates(),
    });
  const signIn = async (login: OidcLogin, provider: TestProvider, claims: Record<string, unknown>) => {
    const { authorizationUrl, binding } = await login.begin();
    const back = await provider.login(authorizationUrl, { accountId: `acct-${Math.random().toString(36).slice(2)}`, claims });
    return login.complete(back.search, binding);
  };

  it('keys the user on tid + oid, takes the UPN as e-mail and app roles as groups', async () => {
    const identity = await signIn(entraLogin(single), single, {
      tid: TENANT,
      oid: USER_OID,
      name: 'Adele Vance',
      preferred_username: 'AdeleV@contoso.onmicrosoft.com',
      groups: ['0b3e7a1d-2f64-4c59-8e1a-6d2c9f4b7a30'],
      roles: ['Sonde.Admin'],
    });
    expect(identity).toMatchObject({
      subject: `entra:${TENANT}:${USER_OID}`,
      tenantId: TENANT,
      email: 'adelev@contoso.onmicrosoft.com',
      name: 'Adele Vance',
      groups: ['0b3e7a1d-2f64-4c59-8e1a-6d2c9f4b7a30', 'Sonde.Admin'],
    });
  });

  it('refuses a token from a directory that is not the configured tenant', async () => {
    const refused = await refusal(signIn(entraLogin(single), single, { tid: OTHER_TENANT, oid: USER_OID }));
    expect(refused.code).toBe('SONDE_ERR_OIDC_TENANT');
    expect(refused.detail).toContain(OTHER_TENANT);
  });

  it('multi-tenant: accepts only the allow-listed directories', async () => {
    const login = entraLogin(multi, { SONDE_ENTRA_TENANT_ID: 'organizations', SONDE_ENTRA_ALLOWED_TENANTS: OTHER_TENANT });
    const ok = await signIn(login, multi, { tid: OTHER_TENANT, oid: USER_OID });
    expect(ok.subject).toBe(`entra:${OTHER_TENANT}:${USER_OID}`);
    expect((await refusal(signIn(login, multi, { tid: TENANT, oid: USER_OID }))).code).toBe('SONDE_ERR_OIDC_TENANT');
  });

  const overage = {
    tid: TENANT,
    oid: USER_OID,
    _claim_names: { groups: 'src1' },
    _claim_sources: { src1: { endpoint: `https://graph.windows.net/${TENANT}/users/${USER_OID}/getMemberObjects` } },
  };

  it('group overage: reads the transitive groups from Microsoft Graph, every page, with an app token', async () => {
    graphMode.current = 'groups';
    graph.requests.length = 0;
    const identity = await signIn(entraLogin(single), single, overage);
    expect(identity.groups).toEqual([
      '0b3e7a1d-2f64-4c59-8e1a-6d2c9f4b7a30',
      '1c4f8b2e-3a75-4d6a-9f2b-7e3d0a5c8b41',
      '2d5a9c3f-4b86-4e7b-8a3c-8f4e1b6d9c52',
      '3e6b0d4a-5c97-4f8c-9b4d-9a5f2c7e0d63',
      'b7d2e4f6-8a1c-4e3b-9d5f-6c8a0e2b4d71',
    ]);
    expect(graph.requests.map((r) => r.url.split('?')[0])).toEqual([
      `/v1.0/users/${USER_OID}/transitiveMemberOf/microsoft.graph.group`,
      `/v1.0/users/${USER_OID}/transitiveMemberOf/microsoft.graph.group`,
    ]);
    expect(graph.requests.every((r) => /^Bearer \S{20,}$/.test(r.authorization ?? ''))).toBe(true);
  });

  it('group overage without Graph permission: refused, naming the fix', async () => {
    graphMode.current = 'forbidden';
    const refused = await refusal(signIn(entraLogin(single), single, { ...overage, _claim_names: undefined, hasgroups: true }));
    graphMode.current = 'groups';
    expect(refused.code).toBe('SONDE_ERR_OIDC_GROUP_OVERAGE');
    expect(refused.detail).toMatch(/Authorization_RequestDenied/);
    expect(refused.detail).toMatch(/GroupMember\.Read\.All/);
    expect(refused.detail).toMatch(/Groups assigned to the application|app roles/);
  });
});
