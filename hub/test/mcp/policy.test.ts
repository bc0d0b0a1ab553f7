import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ADMIN_KEY, fakePdp, fakeServices, principal, type FakeServices } from './support/fake-services.js';
import { connect, startHub, textJson, type Json, type Running } from './support/harness.js';

/**
 * Every tool × allowed / denied agent / denied probe / denied client. Each call
 * must be audited exactly once, must never dispatch anything the policy
 * refuses, and must say "denied" when it targeted something refused.
 */

const KEYS = {
  all: principal('all'),
  webOnly: principal('web-only', { allowedAgents: ['web-*'] }),
  noLogs: principal('no-logs', { allowedProbes: ['system.disk.*', 'postgres.*'] }),
  noDisk: principal('no-disk', { allowedProbes: ['system.logs.*', 'postgres.*'] }),
  cursorOnly: principal('cursor-only', { allowedClients: ['cursor'] }),
};

type Expect = 'ok' | 'denied';
interface Case {
  tool: string;
  args: Record<string, unknown>;
  /** Outcome with KEYS.webOnly (db-1 is outside its agents). */
  deniedAgent: Expect;
  /** Outcome with the key that may not run the probe the call targets (undefined: the tool targets no probe). */
  deniedProbe?: { key: keyof typeof KEYS; outcome: Expect };
}

const CASES: Case[] = [
  { tool: 'health_check', args: { agents: ['db-1'] }, deniedAgent: 'denied', deniedProbe: { key: 'noDisk', outcome: 'denied' } },
  { tool: 'list_capabilities', args: { agent: 'db-1' }, deniedAgent: 'denied' },
  { tool: 'list_agents', args: { agents: ['db-1'] }, deniedAgent: 'denied' },
  { tool: 'agent_overview', args: { agent: 'db-1' }, deniedAgent: 'denied' },
  {
    tool: 'probe',
    args: { agent: 'db-1', probe: 'system.logs.tail', params: {} },
    deniedAgent: 'denied',
    deniedProbe: { key: 'noLogs', outcome: 'denied' },
  },
  {
    tool: 'diagnose',
    args: { agent: 'db-1', category: 'health' },
    deniedAgent: 'denied',
    deniedProbe: { key: 'noDisk', outcome: 'denied' },
  },
  { tool: 'query_logs', args: { agent: 'db-1' }, deniedAgent: 'denied', deniedProbe: { key: 'noLogs', outcome: 'denied' } },
  { tool: 'system_disk_usage', args: { agent: 'db-1' }, deniedAgent: 'denied', deniedProbe: { key: 'noDisk', outcome: 'denied' } },
  { tool: 'system_logs_tail', args: { agent: 'db-1', lines: 5 }, deniedAgent: 'denied', deniedProbe: { key: 'noLogs', outcome: 'denied' } },
  {
    tool: 'system_big_output',
    args: { agent: 'db-1', limit: 5 },
    deniedAgent: 'denied',
    deniedProbe: { key: 'noLogs', outcome: 'denied' },
  },
  { tool: 'postgres_connections', args: { agent: 'web-1' }, deniedAgent: 'ok', deniedProbe: { key: 'noDisk', outcome: 'ok' } },
];

/** Whether a call's answer says it was refused: an error result with the policy code, or a fan-out entry marked denied. */
function saysDenied(result: { isError?: boolean }, body: Json): boolean {
  if (result.isError) return body.error?.code === 'SONDE_ERR_POLICY_DENIED';
  if (Array.isArray(body.agents) && body.agents.some((a: Json) => a.status === 'denied')) return true;
  if (Array.isArray(body.denied) && body.denied.length > 0) return true;
  return false;
}

describe('policy through every tool', () => {
  let services: FakeServices;
  let hub: Running;
  const clients = new Map<string, Client>();

  beforeAll(async () => {
    services = fakeServices();
    for (const [name, p] of Object.entries(KEYS)) services.keys.set(`sk-${name}`, p);
    hub = await startHub(services);
    for (const name of Object.keys(KEYS)) {
      if (name === 'cursorOnly') continue;
      clients.set(name, await connect(hub, { key: `sk-${name}` }));
    }
  });
  afterAll(async () => {
    for (const client of clients.values()) await client.close();
    await hub.close();
  });

  it('covers every tool the admin key sees', async () => {
    const admin = await connect(hub, { key: ADMIN_KEY });
    const names = (await admin.listTools()).tools.map((t) => t.name);
    await admin.close();
    expect(names.sort()).toEqual(
      CASES.map((c) => c.tool)
        .concat('system_slow_probe')
        .sort(),
    );
  });

  async function call(keyName: keyof typeof KEYS, c: Case): Promise<{ result: { isError?: boolean }; body: Json }> {
    const client = clients.get(keyName)!;
    const auditedBefore = services.audited.length;
    const dispatchedBefore = services.dispatched.length;
    const result = (await client.callTool({ name: c.tool, arguments: c.args })) as { isError?: boolean };
    // Exactly one audit record per call, naming the key and tool.
    expect(services.audited.length - auditedBefore, `${c.tool} audit count`).toBe(1);
    const entry = services.audited.at(-1)!;
    expect(entry).toMatchObject({ action: 'mcp.tool_call', tool: c.tool, actor: { kind: 'api_key', id: KEYS[keyName].id } });
    // Nothing the policy refuses ever reaches the dispatcher.
    for (const request of services.dispatched.slice(dispatchedBefore)) {
      expect(
        fakePdp.checkProbe(KEYS[keyName], request.agent, request.probe).allowed,
        `${c.tool} dispatched ${request.probe} on ${request.agent}`,
      ).toBe(true);
    }
    return { result, body: textJson(result) };
  }

  it.each(CASES)('$tool: allowed key gets an answer', async (c) => {
    const { result, body } = await call('all', c);
    expect(result.isError, JSON.stringify(body)).toBeFalsy();
    expect(services.audited.at(-1)!.status).toMatch(/ok|partial/);
  });

  it.each(CASES)('$tool: agent outside the key policy', async (c) => {
    const { result, body } = await call('webOnly', c);
    if (c.deniedAgent === 'denied') {
      expect(saysDenied(result, body), JSON.stringify(body)).toBe(true);
      expect(JSON.stringify(body)).not.toContain('usedPct');
    } else expect(result.isError).toBeFalsy();
    if (result.isError) expect(services.audited.at(-1)!.status).toBe('denied');
  });

  it.each(CASES.filter((c) => c.deniedProbe))('$tool: probe outside the key policy', async (c) => {
    const { result, body } = await call(c.deniedProbe!.key, c);
    if (c.deniedProbe!.outcome === 'denied') expect(saysDenied(result, body), JSON.stringify(body)).toBe(true);
    else expect(result.isError).toBeFalsy();
  });

  it.each(CASES)('$tool: client outside the key policy is refused (and audited) before anything runs', async (c) => {
    const auditedBefore = services.audited.length;
    const dispatchedBefore = services.dispatched.length;
    const response = await fetch(`${hub.url}/mcp`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-cursorOnly', 'content-type': 'application/json', 'x-sonde-client': 'claude-code' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: c.tool, arguments: c.args } }),
    });
    expect(response.status).toBe(403);
    expect(services.dispatched.length).toBe(dispatchedBefore);
    expect(services.audited.length).toBe(auditedBefore + 1);
    expect(services.audited.at(-1)).toMatchObject({ tool: c.tool, clientId: 'claude-code', status: 'denied' });
    const allowed = await fetch(`${hub.url}/mcp`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-cursorOnly', 'content-type': 'application/json', 'x-sonde-client': 'cursor' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: c.tool, arguments: c.args } }),
    });
    expect(allowed.status).toBe(200);
    expect(services.audited.at(-1)).toMatchObject({ tool: c.tool, clientId: 'cursor' });
  });

  it('hides refused probes from tools/list and refused agents from list_agents', async () => {
    const noLogs = (await clients.get('noLogs')!.listTools()).tools.map((t) => t.name);
    expect(noLogs).not.toContain('system_logs_tail');
    expect(noLogs).toContain('system_disk_usage');
    const agents = textJson(await clients.get('webOnly')!.callTool({ name: 'list_agents', arguments: {} }));
    expect(agents.agents.map((a: Json) => a.name)).toEqual(['web-1']);
  });

  it('resolving an agent by id cannot bypass a name-based policy', async () => {
    const result = await clients.get('webOnly')!.callTool({ name: 'system_disk_usage', arguments: { agent: 'id-db-1' } });
    expect(result.isError).toBe(true);
    expect(textJson(result).error.code).toBe('SONDE_ERR_POLICY_DENIED');
  });
});
