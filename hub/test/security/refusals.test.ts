import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AUDITED_REFUSALS_PER_MINUTE, FAILURES_BEFORE_THROTTLE } from '../../src/auth/refusals.js';
import { api, startHubUnderAttack, type HubUnderAttack, type Json } from './support.js';

/**
 * Issue 19, "Smaller items": refusals (401/403/429) are audited and rate-limited per source so that the audit cannot
 * be flooded. Against a real hub process, from distinct loopback source addresses (127.0.0.x): a flood of bad keys is
 * answered 429 with Retry-After once the source has failed too often (on every door, even with a good key), its
 * refusals reach the audit chain a bounded number of times, and a good key from another source is unaffected.
 */

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request from a chosen local (source) address. */
function request(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string; from: string },
): Promise<Answer> {
  const target = new URL(options.path, url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      target,
      { method: options.method ?? 'GET', headers: options.headers ?? {}, localAddress: options.from, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The status a WebSocket upgrade to /ws/agent gets from a source address. */
function upgradeStatus(url: string, authorization: string, from: string): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws/agent`, { headers: { authorization }, localAddress: from });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, ...(res.headers['retry-after'] ? { retryAfter: res.headers['retry-after'] } : {}) });
      ws.terminate();
    });
    ws.once('open', () => {
      resolve({ status: 101 });
      ws.close();
    });
    ws.once('error', () => resolve({ status: 0 }));
  });
}

const badKey = (i: number): string => `Bearer sonde_${'0'.repeat(40)}${String(i).padStart(8, '0')}`;
const mcpBody = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('refusals outside login are audited within a per-source budget and throttle the source (real hub process)', () => {
  let target: HubUnderAttack;
  let memberKey: string;

  const refusedEntries = async (from: string): Promise<Json[]> => {
    const page = await request(target.url, {
      path: '/api/v1/audit?limit=500',
      headers: { authorization: `Bearer ${target.adminKey}` },
      from: '127.0.0.9',
    });
    expect(page.status, page.body).toBe(200);
    return ((JSON.parse(page.body) as Json).entries as Json[]).filter(
      (entry) => entry.action === 'access.refused' && String(entry.detail).includes(`from ${from}`),
    );
  };

  beforeAll(async () => {
    target = await startHubUnderAttack();
    const made = await api(target.url, target.adminKey, 'POST', '/api/v1/api-keys', { name: 'member', role: 'member' });
    expect(made.status).toBe(201);
    memberKey = made.json.rawKey as string;
  }, 120_000);
  afterAll(() => target?.stop());

  it('a flood of bad keys from one source gets 429 with Retry-After after the limit, on every door, and fills the audit only so far', async () => {
    const from = '127.0.0.2';
    const flood = FAILURES_BEFORE_THROTTLE + 20;
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < flood; i += 1) {
      const answer = await request(target.url, { path: '/api/v1/agents', headers: { authorization: badKey(i) }, from });
      statuses.push(answer.status);
      if (answer.status === 429) retryAfter = answer.headers['retry-after'];
    }
    expect(statuses.slice(0, FAILURES_BEFORE_THROTTLE).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(FAILURES_BEFORE_THROTTLE).every((status) => status === 429)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);

    // Throttled on every door, and whatever it now presents: the good admin key, /mcp, the agent upgrade.
    const withGoodKey = await request(target.url, {
      path: '/api/v1/agents',
      headers: { authorization: `Bearer ${target.adminKey}` },
      from,
    });
    expect(withGoodKey.status).toBe(429);
    expect(JSON.parse(withGoodKey.body)).toMatchObject({ error: { code: 'SONDE_ERR_RATE_LIMITED' } });
    const onMcp = await request(target.url, {
      method: 'POST',
      path: '/mcp',
      headers: { ...mcpHeaders, authorization: `Bearer ${target.adminKey}` },
      body: mcpBody,
      from,
    });
    expect(onMcp.status).toBe(429);
    const upgrade = await upgradeStatus(target.url, badKey(0), from);
    expect(upgrade.status).toBe(429);
    expect(Number(upgrade.retryAfter)).toBeGreaterThan(0);
    // Health stays open to monitors.
    expect((await request(target.url, { path: '/api/v1/health', from })).status).toBe(200);

    // Over 50 refusals from that source; the audit chain holds the budget's worth of them.
    const entries = await refusedEntries(from);
    expect(entries).toHaveLength(AUDITED_REFUSALS_PER_MINUTE);
    expect(entries.every((entry) => entry.status === 'denied')).toBe(true);
    expect(entries.some((entry) => String(entry.detail).startsWith('GET /api/v1/agents 401 SONDE_ERR_UNAUTHORIZED from 127.0.0.2'))).toBe(
      true,
    );
    // The chain still verifies.
    const verified = await request(target.url, {
      path: '/api/v1/audit/verify',
      headers: { authorization: `Bearer ${target.adminKey}` },
      from: '127.0.0.9',
    });
    expect(verified.status, verified.body).toBe(200);
    expect(JSON.parse(verified.body)).toMatchObject({ ok: true });
  });

  it('a good key from another source is unaffected by the flood', async () => {
    const answer = await request(target.url, {
      path: '/api/v1/agents',
      headers: { authorization: `Bearer ${target.adminKey}` },
      from: '127.0.0.3',
    });
    expect(answer.status).toBe(200);
    const onMcp = await request(target.url, {
      method: 'POST',
      path: '/mcp',
      headers: { ...mcpHeaders, authorization: `Bearer ${target.adminKey}` },
      body: mcpBody,
      from: '127.0.0.3',
    });
    expect(onMcp.status).toBe(200);
  });

  it('each door audits its refusals (REST, /mcp, the agent upgrade, embed, events), a 403 too; a bare 401 without any credential is not a refusal', async () => {
    const from = '127.0.0.4';
    const doors: Array<{ method?: string; path: string; headers?: Record<string, string>; body?: string; want: number; detail: RegExp }> = [
      {
        path: '/api/v1/agents',
        headers: { authorization: badKey(1) },
        want: 401,
        detail: /^GET \/api\/v1\/agents 401 SONDE_ERR_UNAUTHORIZED/,
      },
      {
        method: 'POST',
        path: '/mcp',
        headers: { ...mcpHeaders, authorization: badKey(2) },
        body: mcpBody,
        want: 401,
        detail: /^POST \/mcp 401/,
      },
      { path: '/api/v1/embed/agents', headers: { authorization: badKey(3) }, want: 401, detail: /^GET \/api\/v1\/embed\/agents 401/ },
      { path: '/api/v1/events', headers: { authorization: badKey(4) }, want: 401, detail: /^GET \/api\/v1\/events 401/ },
      {
        path: '/api/v1/api-keys',
        headers: { authorization: `Bearer ${memberKey}` },
        want: 403,
        detail: /^GET \/api\/v1\/api-keys 403 SONDE_ERR_FORBIDDEN/,
      },
    ];
    for (const door of doors) {
      const answer = await request(target.url, { ...door, from });
      expect(answer.status, `${door.path}: ${answer.body}`).toBe(door.want);
    }
    expect((await upgradeStatus(target.url, badKey(5), from)).status).toBe(401);
    // No credential at all: "authenticate first" (the start of MCP's OAuth discovery, a dashboard not signed in).
    expect((await request(target.url, { path: '/api/v1/agents', from })).status).toBe(401);
    expect((await request(target.url, { method: 'POST', path: '/mcp', headers: mcpHeaders, body: mcpBody, from })).status).toBe(401);

    const details = (await refusedEntries(from)).map((entry) => String(entry.detail));
    for (const door of doors)
      expect(
        details.some((detail) => door.detail.test(detail)),
        `${door.path} in ${details.join('\n')}`,
      ).toBe(true);
    expect(details.some((detail) => detail.startsWith('ws /ws/agent 401 from 127.0.0.4'))).toBe(true);
    expect(details).toHaveLength(doors.length + 1);
  });
});
