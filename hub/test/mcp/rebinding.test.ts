import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startTestHub, type TestHub } from '../helpers.js';

/**
 * DNS-rebinding protection (hub/src/mcp/host-check.ts) on a real hub over a real socket: a page on an attacker's name
 * makes the browser send that name as Host and the page as Origin; both are refused before the credential is looked at,
 * while clients that send the hub's own names (and no Origin, like every CLI) keep working.
 */
interface RpcAnswer {
  jsonrpc?: string;
  id?: unknown;
  error?: { code: number; message: string; data?: { code: string } };
  result?: { tools: unknown[] };
}

describe('MCP DNS-rebinding protection', () => {
  let hub: TestHub;
  let port: number;

  beforeAll(async () => {
    hub = await startTestHub({ SONDE_PUBLIC_URL: 'https://sonde.example.com', SONDE_MCP_ALLOWED_HOSTS: 'mcp.internal, proxy.lan:8443' });
    const url = new URL(await hub.app.listen({ host: '127.0.0.1', port: 0 }));
    port = Number(url.port);
  });
  afterAll(() => hub?.close());

  /** A raw POST: fetch cannot set Host, and a browser under rebinding sends exactly these headers. */
  function post(path: string, headers: Record<string, string>): Promise<{ status: number; body: RpcAnswer }> {
    const payload = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list', params: {} });
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-protocol-version': '2025-06-18',
            authorization: `Bearer ${hub.adminKey}`,
            ...headers,
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : {}) as RpcAnswer }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  const refused = (body: RpcAnswer) =>
    expect(body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32001, data: { code: 'SONDE_ERR_FORBIDDEN_ORIGIN' } } });

  it('refuses a foreign Origin with 403 even with a valid key and the hub’s own Host', async () => {
    for (const origin of ['https://evil.example.net', 'http://127.0.0.2:9999', 'null', 'https://sonde.example.com.evil.net']) {
      const answer = await post('/mcp', { host: `127.0.0.1:${port}`, origin });
      expect(answer.status, origin).toBe(403);
      refused(answer.body);
      expect(answer.body.error?.message).toContain('Origin');
    }
  });

  it('refuses a foreign Host with 403 on /mcp and on pack endpoints, before authentication', async () => {
    for (const host of [
      'evil.example.net',
      `evil.example.net:${port}`,
      'sonde.example.com.evil.net',
      'localhost.evil.net',
      'mcp.internal.evil.net',
    ]) {
      const answer = await post('/mcp', { host });
      expect(answer.status, host).toBe(403);
      refused(answer.body);
      expect(answer.body.error?.message).toContain('SONDE_MCP_ALLOWED_HOSTS');
    }
    const pack = await post('/mcp/packs/system', { host: 'evil.example.net', authorization: 'Bearer nope' });
    expect(pack.status).toBe(403);
    refused(pack.body);
  });

  it('answers the public host, the configured hosts, loopback names and addresses, and same-hub origins', async () => {
    const allowed: Record<string, string>[] = [
      { host: 'sonde.example.com' },
      { host: 'SONDE.example.com:443', origin: 'https://sonde.example.com' },
      { host: 'mcp.internal:3000' },
      { host: 'proxy.lan' },
      { host: `localhost:${port}`, origin: 'http://localhost:6274' },
      { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` },
      { host: `[::1]:${port}` },
    ];
    for (const headers of allowed) {
      const answer = await post('/mcp', headers);
      expect(answer.status, JSON.stringify(headers)).toBe(200);
      expect(answer.body.result?.tools.length).toBeGreaterThan(0);
    }
  });

  it('keeps Bearer-authenticated SDK clients (no Origin) working', async () => {
    const client = new Client({ name: 'claude-code', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${hub.memberKey}` } },
      }),
    );
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('list_agents');
    await client.close();
  });
});
