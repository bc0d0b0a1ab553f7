import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOidcProvider, type TestProvider } from '../support/oidc-provider.js';
import {
  clientMetadata,
  connectWithOAuth,
  freePort,
  mcpWith,
  MemoryAuthProvider,
  startOAuthHub,
  TestUserAgent,
  type OAuthTestHub,
} from './support.js';

/**
 * The MCP client's user signs in through the configured OpenID Connect provider
 * (a real oidc-provider process on loopback), not the local admin: the hub's
 * login page links "Sign in with …", the hub's identity client completes code +
 * PKCE upstream, and the OAuth flow resumes with that user.
 */

let provider: TestProvider;
let hub: OAuthTestHub;
const EMAIL = 'ada@example.com';

beforeAll(async () => {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  provider = await startOidcProvider({
    clients: [{ client_id: 'sonde', client_secret: 'sonde-secret-0123456789', redirect_uris: [`${publicUrl}/auth/oidc/callback`] }],
  });
  hub = await startOAuthHub(
    {
      SONDE_PUBLIC_URL: publicUrl,
      SONDE_OIDC_ISSUER: provider.issuer,
      SONDE_OIDC_CLIENT_ID: 'sonde',
      SONDE_OIDC_CLIENT_SECRET: 'sonde-secret-0123456789',
      SONDE_OIDC_DISPLAY_NAME: 'Keycloak',
    },
    port,
  );
  await hub.app.core.store.users.upsert({
    id: 'user-ada',
    name: EMAIL,
    email: EMAIL,
    role: 'member',
    enabled: true,
    createdAt: new Date().toISOString(),
    subject: null,
    displayName: null,
    origin: 'admin',
    groups: [],
    lastLoginAt: null,
  });
});
afterAll(async () => {
  await hub?.close();
  await provider?.close();
});

describe('OAuth login through the upstream OpenID Connect provider', () => {
  it('signs the user in upstream, lists tools and calls one as that user; the audit names user and client', async () => {
    const redirect = 'http://127.0.0.1:40003/callback';
    const auth = new MemoryAuthProvider(redirect, clientMetadata(redirect, 'SSO test client'));
    const agent = new TestUserAgent(hub.url);
    const login = { kind: 'sso' as const, provider, accountId: 'ada-sub', claims: { email: EMAIL, email_verified: true, name: 'Ada L.' } };
    const { client } = await connectWithOAuth(`${hub.url}/mcp`, auth, agent, login);
    expect(agent.pages.some((p) => p.includes('Sign in with Keycloak'))).toBe(true);
    expect(agent.pages.some((p) => p.includes(`Signed in as <strong>${EMAIL}</strong>`))).toBe(true);
    await client.callTool({ name: 'health_check', arguments: {} });
    await client.close();
    const audit = await hub.app.core.store.audit.query({ limit: 100 });
    expect(audit.find((e) => e.action === 'login.sso' && e.status === 'ok')?.actor).toMatchObject({ id: 'user-ada' });
    expect(audit.filter((e) => e.action === 'mcp.tool_call').at(-1)).toMatchObject({
      actor: { kind: 'user', id: 'user-ada', name: EMAIL },
      clientId: auth.info!.client_id,
    });

    // Disabling the user in the hub ends the token at its next use.
    const store = hub.app.core.store;
    const token = auth.saved!.access_token;
    expect((await mcpWith(`${hub.url}/mcp`, token)).status).toBe(200);
    await store.users.upsert({ ...(await store.users.getById('user-ada'))!, enabled: false });
    expect((await mcpWith(`${hub.url}/mcp`, token)).status).toBe(401);
  });

  it('a user the hub does not know is refused upstream and never reaches consent', async () => {
    const redirect = 'http://127.0.0.1:40003/callback';
    const auth = new MemoryAuthProvider(redirect, clientMetadata(redirect, 'SSO test client'));
    const agent = new TestUserAgent(hub.url);
    const login = { kind: 'sso' as const, provider, accountId: 'stranger', claims: { email: 'eve@example.com', email_verified: true } };
    await expect(connectWithOAuth(`${hub.url}/mcp`, auth, agent, login)).rejects.toThrow(
      'single sign-on refused: Your account is not authorized on this hub',
    );
    expect(agent.pages.some((p) => p.includes('id="consent"'))).toBe(false);
    expect(auth.saved).toBeUndefined();
  });
});
