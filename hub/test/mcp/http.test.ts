import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, AGENT_KEY, fakeServices, principal, type FakeServices } from './support/fake-services.js';
import { connect, startHub, textJson, type Json, type Running } from './support/harness.js';

const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'mcp-remote', version: '0.1.0' } },
};

async function post(hub: Running, body: unknown, headers: Record<string, string> = {}, path = '/mcp'): Promise<Response> {
  return fetch(`${hub.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

describe('MCP over HTTP', () => {
  let services: FakeServices;
  let hub: Running;

  beforeAll(async () => {
    services = fakeServices();
    services.keys.set('sk-claude-only', principal('claude-only', { allowedClients: ['claude-code'] }));
    hub = await startHub(services);
  });
  afterAll(() => hub.close());

  it('refuses a request without a key with 401, a JSON-RPC error and WWW-Authenticate: Bearer', async () => {
    const response = await post(hub, INIT);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const body = (await response.json()) as Json;
    expect(body.jsonrpc).toBe('2.0');
    expect(body.error.data.code).toBe('SONDE_ERR_UNAUTHORIZED');
  });

  it.each([
    ['a wrong key', 'sk-nope'],
    ['an agent key', AGENT_KEY],
  ])('refuses %s with 401', async (_label, key) => {
    const response = await post(hub, INIT, { authorization: `Bearer ${key}` });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('answers a POST without Accept: text/event-stream (as mcp-remote sends) with JSON', async () => {
    const init = await post(hub, INIT, { authorization: `Bearer ${ADMIN_KEY}` });
    expect(init.status).toBe(200);
    expect(init.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await init.json()) as Json;
    expect(body.result.serverInfo.name).toBe('sonde');
    expect(body.result.capabilities.tools).toBeDefined();
    const list = await post(
      hub,
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      { authorization: `Bearer ${ADMIN_KEY}`, 'mcp-protocol-version': '2025-06-18' },
    );
    expect(list.status).toBe(200);
    const tools = ((await list.json()) as Json).result.tools.map((t: { name: string }) => t.name);
    expect(tools).toContain('list_agents');
  });

  it('works without any initialize (stateless): tools/call straight away', async () => {
    const response = await post(
      hub,
      { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'list_agents', arguments: {} } },
      { authorization: `Bearer ${ADMIN_KEY}`, accept: 'application/json' },
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as Json;
    expect(JSON.parse(body.result.content[0].text).count).toBe(3);
  });

  it('answers GET with 405 and accepts DELETE (no state to end)', async () => {
    const get = await fetch(`${hub.url}/mcp`, { headers: { authorization: `Bearer ${ADMIN_KEY}`, accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
    const del = await fetch(`${hub.url}/mcp`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(del.status).toBe(200);
  });

  it('refuses a body over 1 MiB with 413 and a JSON-RPC error', async () => {
    const huge = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'probe', arguments: { agent: 'x'.repeat(1_100_000) } } };
    const response = await post(hub, huge, { authorization: `Bearer ${ADMIN_KEY}` });
    expect(response.status).toBe(413);
    expect(((await response.json()) as Json).error.data.code).toBe('SONDE_ERR_REQUEST_TOO_LARGE');
  });

  it('answers malformed JSON with a JSON-RPC parse error, never a stack trace', async () => {
    const response = await fetch(`${hub.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: '{"jsonrpc": ',
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(JSON.parse(text).error.code).toBe(-32700);
    expect(text).not.toMatch(/at .*\.js:\d+/);
  });

  describe('JSON-RPC framing (answered as the SDK transport answers)', () => {
    const auth = { authorization: `Bearer ${ADMIN_KEY}` };

    it('answers a notification-only POST with 202 and no body', async () => {
      const response = await post(hub, { jsonrpc: '2.0', method: 'notifications/initialized' }, auth);
      expect(response.status).toBe(202);
      expect(await response.text()).toBe('');
    });

    it('answers a batch with one response per request, in order, and none for its notification', async () => {
      const response = await post(
        hub,
        [
          { jsonrpc: '2.0', id: 'b', method: 'tools/call', params: { name: 'list_agents', arguments: {} } },
          { jsonrpc: '2.0', method: 'notifications/initialized' },
          { jsonrpc: '2.0', id: 'a', method: 'ping' },
        ],
        auth,
      );
      expect(response.status).toBe(200);
      const body = (await response.json()) as Json[];
      expect(body.map((m) => m.id)).toEqual(['b', 'a']);
      expect(JSON.parse(body[0]!.result.content[0].text).count).toBe(3);
      expect(body[1]!.result).toEqual({});
    });

    it('keeps concurrent POSTs that reuse the same JSON-RPC id apart', async () => {
      const calls = Array.from({ length: 12 }, (_, i) =>
        post(
          hub,
          i % 2 === 0
            ? { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'list_agents', arguments: {} } }
            : { jsonrpc: '2.0', id: 1, method: 'tools/list' },
          auth,
        ).then((r) => r.json() as Promise<Json>),
      );
      const bodies = await Promise.all(calls);
      bodies.forEach((body, i) => {
        expect(body.id).toBe(1);
        if (i % 2 === 0) expect(JSON.parse(body.result.content[0].text).count).toBe(3);
        else expect(body.result.tools.map((t: { name: string }) => t.name)).toContain('list_agents');
      });
    });

    it('ignores a cancellation naming a request of another POST', async () => {
      const response = await post(hub, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } }, auth);
      expect(response.status).toBe(202);
      const after = await post(hub, { jsonrpc: '2.0', id: 1, method: 'ping' }, auth);
      expect(((await after.json()) as Json).result).toEqual({});
    });

    it('refuses an unsupported MCP-Protocol-Version with 400', async () => {
      const response = await post(hub, { jsonrpc: '2.0', id: 1, method: 'ping' }, { ...auth, 'mcp-protocol-version': '1999-01-01' });
      expect(response.status).toBe(400);
      expect(((await response.json()) as Json).error.message).toMatch(/Unsupported protocol version: 1999-01-01/);
    });

    it('refuses two initialize requests in one batch', async () => {
      const response = await post(hub, [INIT, { ...INIT, id: 2 }], auth);
      expect(response.status).toBe(400);
      expect(((await response.json()) as Json).error.code).toBe(-32600);
    });

    it('refuses a body that is JSON but not JSON-RPC with a parse error', async () => {
      const response = await post(hub, { hello: 'world' }, auth);
      expect(response.status).toBe(400);
      expect(((await response.json()) as Json).error.code).toBe(-32700);
    });

    it('answers an unknown method with a JSON-RPC error, not an HTTP error', async () => {
      const response = await post(hub, { jsonrpc: '2.0', id: 9, method: 'resources/list' }, auth);
      expect(response.status).toBe(200);
      const body = (await response.json()) as Json;
      expect(body.id).toBe(9);
      expect(body.error.code).toBe(-32601);
    });
  });

  it('serves the official SDK client: list_agents and a per-probe tool', async () => {
    const client = await connect(hub, { key: ADMIN_KEY });
    const agents = textJson(await client.callTool({ name: 'list_agents', arguments: {} }));
    expect(agents.agents.map((a: { name: string }) => a.name)).toEqual(['db-1', 'old-1', 'web-1']);
    const disk = await client.callTool({ name: 'system_disk_usage', arguments: { agent: 'web-1' } });
    expect(disk.isError).toBeFalsy();
    expect(textJson(disk).data).toEqual({ filesystems: [{ mount: '/', usedPct: 42 }] });
    expect(disk.structuredContent).toMatchObject({ agent: 'web-1', probe: 'system.disk.usage', status: 'ok' });
    await client.close();
  });

  describe('client id', () => {
    it('takes clientInfo.name at initialize and carries it in a signed Mcp-Session-Id', async () => {
      const allowed = await connect(hub, { key: 'sk-claude-only', clientName: 'claude-code' });
      const result = await allowed.callTool({ name: 'list_agents', arguments: {} });
      expect(result.isError).toBeFalsy();
      expect(services.audited.at(-1)?.clientId).toBe('claude-code');
      await allowed.close();
    });

    it('refuses a client the key does not allow at initialize with 403', async () => {
      await expect(connect(hub, { key: 'sk-claude-only', clientName: 'cursor' })).rejects.toThrow(/403|may not use this API key/);
    });

    it('refuses a later request whose client cannot be known (no header, no valid session) for a client-limited key', async () => {
      const response = await post(
        hub,
        { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'list_agents', arguments: {} } },
        { authorization: `Bearer sk-claude-only`, 'mcp-session-id': 's1.forged.mac' },
      );
      expect(response.status).toBe(403);
    });

    it('does not accept a session token minted for another key', async () => {
      const init = await post(
        hub,
        { ...INIT, params: { ...INIT.params, clientInfo: { name: 'claude-code', version: '1' } } },
        { authorization: `Bearer ${ADMIN_KEY}` },
      );
      const token = init.headers.get('mcp-session-id');
      expect(token).toMatch(/^s1\./);
      const response = await post(
        hub,
        { jsonrpc: '2.0', id: 3, method: 'tools/list' },
        { authorization: `Bearer sk-claude-only`, 'mcp-session-id': token!, 'mcp-protocol-version': '2025-06-18' },
      );
      expect(response.status).toBe(403);
    });

    it('takes X-Sonde-Client on every request', async () => {
      const response = await post(
        hub,
        { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'list_agents', arguments: {} } },
        { authorization: `Bearer sk-claude-only`, 'x-sonde-client': 'claude-code' },
      );
      expect(response.status).toBe(200);
    });
  });
});
