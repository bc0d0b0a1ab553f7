import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { ADMIN_PASSWORD, ADMIN_USER, startTestHub, type TestHub } from '../helpers.js';
import { authorizationUrl, pkcePair, registerClient, startOAuthHub, tokenRequest, TestUserAgent } from '../oauth/support.js';
import { textJson, type Json } from './support/harness.js';

/**
 * The hub serves both MCP eras on the same URL, chosen per request: the 2025 revisions (initialize, a signed
 * Mcp-Session-Id naming the client) through SDK v1, and 2026-07-28 (no initialize, no session, `_meta` envelope on
 * every request, `server/discover`) through SDK v2. Each real SDK client connects with the revision it speaks and gets
 * the same tools, policy and audit.
 */
const META_TOOLS = ['health_check', 'list_capabilities', 'list_agents', 'agent_overview', 'probe', 'diagnose', 'query_logs'];

let hub: TestHub;
let url: string;

beforeAll(async () => {
  hub = await startTestHub();
  url = await hub.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(() => hub?.close());

const headers = () => ({ authorization: `Bearer ${hub.memberKey}` });

async function lastToolCall(): Promise<Json> {
  const audit = await hub.app.inject({ method: 'GET', url: '/api/v1/audit?tool=list_agents', headers: hub.auth() });
  return (audit.json<Json>().entries as Json[])[0];
}

describe('MCP revisions, negotiated per request', () => {
  it('SDK v1 client (2025-11-25): initialize, session token, the tools', async () => {
    const client = new ClientV1({ name: 'v1-client', version: '1.0.0' });
    const transport = new TransportV1(new URL(`${url}/mcp`), { requestInit: { headers: headers() } });
    await client.connect(transport);
    expect(transport.protocolVersion).toBe('2025-11-25');
    expect(transport.sessionId).toMatch(/^s1\./);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(META_TOOLS);
    expect(textJson(await client.callTool({ name: 'list_agents', arguments: {} }))).toMatchObject({ count: 0 });
    await client.close();
    expect(await lastToolCall()).toMatchObject({ clientId: 'v1-client', status: 'ok' });
  });

  it('SDK v2 client pinned to 2026-07-28: server/discover, no initialize, no session; same tools, same audit', async () => {
    const client = new ClientV2({ name: 'v2-modern', version: '2.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    const transport = new TransportV2(new URL(`${url}/mcp`), { requestInit: { headers: headers() } });
    await client.connect(transport);
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    expect(client.getServerVersion()?.name).toBe(hub.app.sonde.config.serverName);
    expect(transport.sessionId).toBeUndefined();
    const tools = (await client.listTools()).tools;
    expect(tools.map((t) => t.name)).toEqual(META_TOOLS);
    expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
    const result = await client.callTool({ name: 'list_agents', arguments: {} });
    expect(textJson(result)).toMatchObject({ count: 0, agents: [] });
    // A tool error is a result on this revision too, not a protocol error.
    const missing = await client.callTool({ name: 'probe', arguments: { agent: 'nope', probe: 'system.disk.usage' } });
    expect(missing.isError).toBe(true);
    expect(textJson(missing).error.code).toBe('SONDE_ERR_UNKNOWN_AGENT');
    await client.close();
    // The client id comes from the envelope's clientInfo on every request (there is no initialize to remember it from).
    expect(await lastToolCall()).toMatchObject({ clientId: 'v2-modern', status: 'ok', actor: { kind: 'api_key' } });
  });

  it('SDK v2 client in auto mode chooses 2026-07-28; in its default (legacy) mode it speaks 2025-11-25', async () => {
    const auto = new ClientV2({ name: 'v2-auto', version: '2.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await auto.connect(new TransportV2(new URL(`${url}/mcp`), { requestInit: { headers: headers() } }));
    expect(auto.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    expect((await auto.listTools()).tools).toHaveLength(META_TOOLS.length);
    await auto.close();

    const legacy = new ClientV2({ name: 'v2-legacy', version: '2.0.0' });
    const transport = new TransportV2(new URL(`${url}/mcp`), { requestInit: { headers: headers() } });
    await legacy.connect(transport);
    expect(legacy.getNegotiatedProtocolVersion()).toBe('2025-11-25');
    expect(transport.sessionId).toMatch(/^s1\./);
    expect(textJson(await legacy.callTool({ name: 'list_agents', arguments: {} }))).toMatchObject({ count: 0 });
    await legacy.close();
    expect(await lastToolCall()).toMatchObject({ clientId: 'v2-legacy' });
  });

  it('on the wire: a 2026-07-28 answer carries resultType; a request without the envelope is refused; 2025 is untouched', async () => {
    const envelope = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'curl', version: '1' },
      'io.modelcontextprotocol/clientCapabilities': {},
    };
    const post = (body: unknown, version?: string, method = 'tools/list') =>
      fetch(`${url}/mcp`, {
        method: 'POST',
        headers: {
          ...headers(),
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...(version ? { 'mcp-protocol-version': version, 'mcp-method': method } : {}),
        },
        body: JSON.stringify(body),
      });
    const modern = await post({ jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: envelope } }, '2026-07-28');
    expect(modern.status).toBe(200);
    expect(modern.headers.get('mcp-session-id')).toBeNull();
    const body = (await modern.json()) as Json;
    expect(body.id).toBe(7);
    expect(body.result.resultType).toBe('complete');
    expect(body.result.tools).toHaveLength(META_TOOLS.length);

    const bare = await post({ jsonrpc: '2.0', id: 8, method: 'tools/list' }, '2026-07-28');
    expect(bare.status).toBeGreaterThanOrEqual(400);
    expect(((await bare.json()) as Json).error.message).toMatch(/_meta/);

    // An unknown later revision is refused with the versions this hub speaks, not served as something else.
    const future = await post(
      {
        jsonrpc: '2.0',
        id: 9,
        method: 'tools/list',
        params: { _meta: { ...envelope, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } },
      },
      '2099-01-01',
    );
    expect(future.status).toBe(400);
    expect(JSON.stringify(await future.json())).toContain('2026-07-28');

    const old = await post({ jsonrpc: '2.0', id: 10, method: 'tools/list' }, '2025-06-18');
    expect(old.status).toBe(200);
    expect(((await old.json()) as Json).result.resultType).toBeUndefined();
  });

  it('authentication comes first on both revisions: no key, no discovery', async () => {
    const response = await fetch(`${url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'mcp-protocol-version': '2026-07-28' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: {} }),
    });
    expect(response.status).toBe(401);
  });
});

describe('2026-07-28 with an OAuth access token', () => {
  it('the SDK v2 client pinned to 2026-07-28 uses a token from the hub’s authorization server; the audit names user and client', async () => {
    const oauthHub = await startOAuthHub();
    try {
      const redirect = 'https://app.example.com/callback';
      const registered = await registerClient(oauthHub.url, {
        client_name: 'Modern client',
        redirect_uris: [redirect],
        token_endpoint_auth_method: 'none',
      });
      const clientId = registered.body.client_id as string;
      const { verifier, challenge } = pkcePair();
      const callback = await new TestUserAgent(oauthHub.url).authorize(
        authorizationUrl(oauthHub.url, { clientId, redirectUri: redirect, challenge, resource: `${oauthHub.url}/mcp` }),
        { kind: 'local', user: ADMIN_USER, password: ADMIN_PASSWORD },
      );
      const token = await tokenRequest(oauthHub.url, {
        grant_type: 'authorization_code',
        client_id: clientId,
        code: callback.searchParams.get('code')!,
        code_verifier: verifier,
        redirect_uri: redirect,
      });
      expect(token.status).toBe(200);
      const client = new ClientV2({ name: 'modern-oauth', version: '2.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
      await client.connect(
        new TransportV2(new URL(`${oauthHub.url}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${token.body.access_token as string}` } },
        }),
      );
      expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      expect(textJson(await client.callTool({ name: 'list_agents', arguments: {} }))).toMatchObject({ count: 0 });
      await client.close();
      const entries = (await oauthHub.app.core.store.audit.query({ limit: 20 })).filter((e) => e.action === 'mcp.tool_call');
      expect(entries.at(-1)).toMatchObject({ actor: { kind: 'user', name: ADMIN_USER }, clientId, tool: 'list_agents' });

      // Without a token, a 2026-07-28 request is a bare 401 naming the resource metadata, as on the 2025 revisions.
      const bare = await fetch(`${oauthHub.url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: {} }),
      });
      expect(bare.status).toBe(401);
      expect(bare.headers.get('www-authenticate')).toContain('resource_metadata=');
    } finally {
      await oauthHub.close();
    }
  });
});

describe('2026-07-28: bad input gets a 4xx answer, never a 5xx', () => {
  it('malformed envelopes, batches, unknown methods and mismatched headers', async () => {
    const envelope = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'fuzz', version: '1' },
      'io.modelcontextprotocol/clientCapabilities': {},
    };
    const bodies: Array<[unknown, Record<string, string>]> = [
      [{ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { ...envelope, 'io.modelcontextprotocol/clientInfo': 7 } } }, {}],
      [{ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': 42 } } }, {}],
      [{ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { _meta: envelope } }, { 'mcp-method': 'tools/call' }],
      [
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 5, _meta: envelope } },
        { 'mcp-method': 'tools/call', 'mcp-name': '5' },
      ],
      [{ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: envelope } }, { 'mcp-method': 'tools/call' }],
      [{ jsonrpc: '2.0', id: 1, method: 'initialize', params: { _meta: envelope } }, { 'mcp-method': 'initialize' }],
      [{ jsonrpc: '2.0', id: 1, method: 'no/such', params: { _meta: envelope } }, { 'mcp-method': 'no/such' }],
      [
        [
          { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: envelope } },
          { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: envelope } },
        ],
        {},
      ],
      [
        { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, _meta: envelope } },
        { 'mcp-method': 'notifications/cancelled' },
      ],
      [{ jsonrpc: '1.0', id: 1, method: 'tools/list', params: { _meta: envelope } }, {}],
      ['just a string', {}],
    ];
    for (const [body, extra] of bodies) {
      const response = await fetch(`${url}/mcp`, {
        method: 'POST',
        headers: {
          ...headers(),
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/list',
          ...extra,
        },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      expect(response.status, `${JSON.stringify(body)} -> ${response.status} ${text.slice(0, 200)}`).toBeLessThan(500);
      expect(text).not.toMatch(/\bat \S+ \(/); // no stack trace
    }
    expect((await fetch(`${url}/api/v1/health`)).status).toBe(200);
  });
});
