import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, ADMIN_USER } from '../helpers.js';
import { clientMetadata, connectWithOAuth, MemoryAuthProvider, startOAuthHub, TestUserAgent, type OAuthTestHub } from './support.js';

let hub: OAuthTestHub;
const local = { kind: 'local' as const, user: ADMIN_USER, password: ADMIN_PASSWORD };

beforeAll(async () => {
  hub = await startOAuthHub();
});
afterAll(() => hub?.close());

describe('discovery', () => {
  it('answers a bare POST /mcp with 401 and a challenge naming the protected resource metadata and scope', async () => {
    const response = await fetch(`${hub.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer realm="sonde", resource_metadata="${hub.url}/.well-known/oauth-protected-resource/mcp", scope="mcp"`,
    );
    const pack = await fetch(`${hub.url}/mcp/packs/system`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(pack.headers.get('www-authenticate')).toContain(
      `resource_metadata="${hub.url}/.well-known/oauth-protected-resource/mcp/packs/system"`,
    );
  });

  it('serves RFC 9728 metadata path-aware and at the root, and RFC 8414 / OpenID metadata for the authorization server', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const prm = (await (await fetch(`${hub.url}${path}`)).json()) as Record<string, unknown>;
      expect(prm).toMatchObject({ resource: `${hub.url}/mcp`, authorization_servers: [hub.url], scopes_supported: ['mcp'] });
    }
    const packPrm = (await (await fetch(`${hub.url}/.well-known/oauth-protected-resource/mcp/packs/system`)).json()) as Record<
      string,
      unknown
    >;
    expect(packPrm.resource).toBe(`${hub.url}/mcp/packs/system`);
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const meta = (await (await fetch(`${hub.url}${path}`)).json()) as Record<string, unknown>;
      expect(meta.issuer).toBe(hub.url);
      expect(meta.code_challenge_methods_supported).toEqual(['S256']);
      expect(meta.response_types_supported).toEqual(['code']);
      expect(meta.authorization_response_iss_parameter_supported).toBe(true);
      expect(meta.registration_endpoint).toBe(`${hub.url}/oauth/register`);
      expect(meta.revocation_endpoint).toBe(`${hub.url}/oauth/revoke`);
      expect(meta.client_id_metadata_document_supported).toBe(true);
      expect(meta.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token']));
    }
  });
});

describe('the SDK client through dynamic registration and the local admin login', () => {
  it('registers, signs in, consents, gets a token bound to /mcp, lists tools and calls one; the audit names user and client', async () => {
    const redirect = 'http://127.0.0.1:43111/callback';
    const provider = new MemoryAuthProvider(redirect, clientMetadata(redirect, 'DCR test client'));
    const agent = new TestUserAgent(hub.url);
    const { client, callback } = await connectWithOAuth(`${hub.url}/mcp`, provider, agent, local);
    expect(callback.searchParams.get('iss')).toBe(hub.url);
    expect(agent.pages.some((p) => p.includes('Allow DCR test client to use Sonde?') && p.includes('http://127.0.0.1:43111'))).toBe(true);
    expect(provider.saved?.refresh_token).toBeTruthy();
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('health_check');
    await client.callTool({ name: 'health_check', arguments: {} });
    await client.close();
    const clientId = provider.info!.client_id;
    const entries = (await hub.app.core.store.audit.query({ limit: 50 })).filter((e) => e.action === 'mcp.tool_call');
    expect(entries.at(-1)).toMatchObject({ actor: { kind: 'user', name: ADMIN_USER }, clientId, tool: 'health_check', status: 'ok' });
  });
});
