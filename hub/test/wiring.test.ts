import type { AddressInfo } from 'node:net';
import { EnrollResponseSchema } from '@sonde/pack-sdk/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CloseCodes } from '../src/gateway/codes.js';
import { makeCsr, startTestHub, type TestHub } from './helpers.js';

let hub: TestHub;
let base: string;

beforeAll(async () => {
  hub = await startTestHub();
  await hub.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(hub.app.server.address() as AddressInfo).port}`;
});
afterAll(() => hub.close());

function upgradeStatus(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws/agent`, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });
}

describe('one hub, three doors: each credential type opens only its own', () => {
  it('agent keys open /ws/agent only; user keys open REST and /mcp only', async () => {
    const token = (await hub.app.inject({ method: 'POST', url: '/api/v1/enrollment-tokens', headers: hub.auth(), payload: {} })).json<{
      token: string;
    }>().token;
    const enrolled = await fetch(`${base}/api/v1/enroll`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'wired-1', csrPem: makeCsr('wired-1'), agentVersion: '0.1.0' }),
    });
    const agent = EnrollResponseSchema.parse(await enrolled.json());
    expect(agent.wsUrl).toBe(`${base.replace('http', 'ws')}/ws/agent`);

    expect(await upgradeStatus({ authorization: `Bearer ${agent.apiKey}` })).toBe(101);
    expect(await upgradeStatus(hub.auth())).toBe(401);
    expect(await upgradeStatus({ authorization: `Bearer ${token}` })).toBe(401);
    expect(await upgradeStatus({})).toBe(401);

    const mcpBody = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
    const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const asAgent = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { ...mcpHeaders, authorization: `Bearer ${agent.apiKey}` },
      body: mcpBody,
    });
    expect(asAgent.status).toBe(401);
    const asUser = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { ...mcpHeaders, authorization: `Bearer ${hub.adminKey}` },
      body: mcpBody,
    });
    expect(asUser.status).toBe(200);

    expect((await fetch(`${base}/api/v1/agents`, { headers: { authorization: `Bearer ${agent.apiKey}` } })).status).toBe(401);
    expect((await fetch(`${base}/api/v1/agents`, { headers: hub.auth() })).status).toBe(200);
  });
});

describe('revocation reaches live sockets', () => {
  async function enrolled(name: string) {
    const token = (
      await hub.app.inject({ method: 'POST', url: '/api/v1/enrollment-tokens', headers: hub.auth(), payload: { name } })
    ).json<{ token: string }>().token;
    const res = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/enroll',
      headers: { authorization: `Bearer ${token}` },
      payload: { name, csrPem: makeCsr(name), agentVersion: '0.1.0' },
    });
    return EnrollResponseSchema.parse(res.json());
  }

  function openSocket(apiKey: string): Promise<{ closed: Promise<number> }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/ws/agent`, { headers: { authorization: `Bearer ${apiKey}` } });
      const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
      ws.once('open', () => resolve({ closed }));
      ws.once('error', reject);
    });
  }

  it('revoking an agent key over REST closes the agent socket', async () => {
    const agent = await enrolled('revoke-1');
    const socket = await openSocket(agent.apiKey);
    const keyId = (await hub.app.core.apiKeys.list()).find((k) => k.agentId === agent.agentId)!.id;
    expect((await hub.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${keyId}`, headers: hub.auth() })).statusCode).toBe(200);
    expect(await socket.closed).toBe(CloseCodes.removed);
  });

  it('removing an agent closes its socket', async () => {
    const agent = await enrolled('remove-1');
    const socket = await openSocket(agent.apiKey);
    expect((await hub.app.inject({ method: 'DELETE', url: `/api/v1/agents/${agent.agentId}`, headers: hub.auth() })).statusCode).toBe(204);
    expect(await socket.closed).toBe(CloseCodes.removed);
  });
});
