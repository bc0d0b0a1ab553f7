import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { buildApp } from '../../src/app.js';
import { startTestHub, type TestHub } from '../helpers.js';
import { textJson, type Json } from './support/harness.js';

/** The MCP plugin inside the real hub: real keys, policy decision point, fleet and audit log (no agent connected). */
describe('MCP in the real hub', () => {
  let hub: TestHub;
  let url: string;

  beforeAll(async () => {
    hub = await startTestHub();
    url = await hub.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => hub.close());

  async function client(key: string, name = 'claude-code'): Promise<Client> {
    const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    });
    const c = new Client({ name, version: '1.0.0' });
    await c.connect(transport);
    return c;
  }

  it('serves a member key, audits the call in the real log, and refuses agent keys', async () => {
    const member = await client(hub.memberKey);
    const names = (await member.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(['health_check', 'list_capabilities', 'list_agents', 'agent_overview', 'probe', 'diagnose', 'query_logs']);
    expect(textJson(await member.callTool({ name: 'list_agents', arguments: {} }))).toMatchObject({ count: 0, agents: [] });
    const missing = await member.callTool({ name: 'probe', arguments: { agent: 'nope', probe: 'system.disk.usage' } });
    expect(missing.isError).toBe(true);
    expect(textJson(missing).error.code).toBe('SONDE_ERR_UNKNOWN_AGENT');
    await member.close();

    const audit = await hub.app.inject({ method: 'GET', url: '/api/v1/audit?tool=probe', headers: hub.auth() });
    expect(audit.statusCode).toBe(200);
    const entries = audit.json<Json>().entries as Json[];
    expect(entries[0]).toMatchObject({
      tool: 'probe',
      clientId: 'claude-code',
      status: 'error',
      agents: ['nope'],
      probe: 'system.disk.usage',
    });

    const agentKey = (await hub.app.core.apiKeys.create({ name: 'agent:x', role: 'member', type: 'agent' })).rawKey;
    const refused = await fetch(`${url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agentKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(refused.status).toBe(401);
  });

  it('applies a client-limited key policy from the real store', async () => {
    const limited = (await hub.app.core.apiKeys.create({ name: 'cursor-only', role: 'member', policy: { allowedClients: ['cursor'] } }))
      .rawKey;
    await expect(client(limited, 'claude-code')).rejects.toThrow(/403|may not be used/);
    const ok = await client(limited, 'cursor');
    expect((await ok.listTools()).tools.length).toBe(7);
    await ok.close();
  });

  it('keeps a client-limited key working on another hub process that shares SONDE_SECRET', async () => {
    const limited = (
      await hub.app.core.apiKeys.create({
        name: 'cursor-restart',
        role: 'member',
        policy: { allowedClients: ['cursor'] },
      })
    ).rawKey;
    const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${limited}` } },
    });
    const first = new Client({ name: 'cursor', version: '1.0.0' });
    await first.connect(transport);
    const token = transport.sessionId;
    expect(token).toBeTruthy();
    await first.close();

    // A second hub on the same database and secret (a restart, or a peer behind a load balancer).
    const second = await buildApp(hub.config, { logger: false });
    try {
      const listed = await second.inject({
        method: 'POST',
        url: '/mcp',
        headers: {
          authorization: `Bearer ${limited}`,
          'mcp-session-id': token!,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
        },
        payload: { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      });
      expect(listed.statusCode, listed.body).toBe(200);
      expect(listed.body).toContain('list_agents');
    } finally {
      await second.close();
    }
  });
});
