import { z } from 'zod';
import { definePack, defineProbe } from '@sonde/pack-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, enrollAgent, mcp, RawAgent, startHubUnderAttack, toolJson, type EnrolledAgent, type HubUnderAttack } from './support.js';

/**
 * Issue 19, "nothing a caller or an agent sends can stall the hub": a member
 * key's agent filter globs and an agent's result schema are the two inputs
 * that reached a backtracking matcher on the hub's event loop. Each attack runs
 * against a real hub process while another client measures `/api/v1/health`;
 * the bound asserted is generous (hostile against baseline, plus a second), and
 * the hostile calls themselves must be answered. On the previous matcher a
 * single such call froze the hub for far longer than the test's timeout.
 */
const AGENTS = 12;
/** Agent names at the 64-character limit, all `a` but the tail: the input a backtracking glob engine chokes on. */
const longName = (i: number): string => `${'a'.repeat(61)}${String(i).padStart(3, '0')}`;

async function healthLatencies(url: string, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const res = await fetch(`${url}/api/v1/health`);
    await res.text();
    out.push(performance.now() - started);
  }
  return out;
}

describe('nothing a caller or an agent sends stalls the hub (real hub process)', () => {
  let target: HubUnderAttack;
  let member: string;
  const agents: EnrolledAgent[] = [];
  const sockets: RawAgent[] = [];

  beforeAll(async () => {
    target = await startHubUnderAttack();
    member = (await api(target.url, target.adminKey, 'POST', '/api/v1/api-keys', { name: 'member', role: 'member' })).json.rawKey;
    for (let i = 0; i < AGENTS; i++) agents.push(await enrollAgent(target.url, target.adminKey, longName(i)));
  }, 120_000);
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await target?.stop();
  });

  it('answers agent filters built to make a glob engine backtrack, and /health stays responsive meanwhile', async () => {
    const baseline = Math.max(...(await healthLatencies(target.url, 20)));
    // The worst filter allowed (two runs of stars, the most a pattern may have): accepted, matched in bounded steps.
    const hostile = '*a*b';
    // 64 characters, 32 stars; 200 characters: refused as invalid filters before anything is compiled or matched.
    const refused = [`${'*a'.repeat(31)}*b`, `${'*a'.repeat(99)}*b`];
    const calls = Array.from({ length: 9 }, (_, i) =>
      mcp(target.url, member, 'tools/call', { name: 'list_agents', arguments: { agents: [i % 3 === 0 ? hostile : refused[(i % 3) - 1]] } }),
    );
    const during = healthLatencies(target.url, 20);
    const answers = await Promise.all(calls);
    const worst = Math.max(...(await during));
    for (const [i, answer] of answers.entries()) {
      if (i % 3 === 0) expect(toolJson(answer)).toMatchObject({ count: 0 });
      else {
        expect(answer.result.isError).toBe(true);
        expect(toolJson(answer).error.code).toBe('SONDE_ERR_INVALID_ARGUMENTS');
      }
    }
    // A matching filter still works: the matcher is a glob, not a refusal of stars.
    expect(toolJson(await mcp(target.url, member, 'tools/call', { name: 'list_agents', arguments: { agents: ['a*001'] } })).count).toBe(1);
    // Foreign glob syntax is refused, not read as something else.
    const brace = await mcp(target.url, member, 'tools/call', { name: 'list_agents', arguments: { agents: ['{a,b}*'] } });
    expect(toolJson(brace).error.code).toBe('SONDE_ERR_INVALID_ARGUMENTS');
    expect(worst).toBeLessThan(baseline + 1_000);
  }, 60_000);

  it("never runs an agent's regular expression: a result schema built to backtrack is answered, /health stays responsive", async () => {
    const hostilePack = definePack({
      name: 'evil',
      version: '1.0.0',
      description: 'A pack an attacker controls.',
      permissions: {},
      probes: [
        defineProbe({
          name: 'echo',
          description: 'Returns a string.',
          params: z.object({}).strict(),
          result: z.object({ v: z.string().regex(/^(a+)+$/) }),
          handler: () => Promise.resolve({ v: '' }),
        }),
      ],
    }).manifest;
    const agent = agents[0];
    const socket = await RawAgent.online(agent, {
      packs: [{ name: 'evil', version: '1.0.0', state: 'active', manifest: hostilePack }],
    });
    sockets.push(socket);
    // 40 a's and a mismatch: 2^40 steps for a backtracking engine.
    socket.onProbe = (request) => ({
      requestId: request.requestId,
      status: 'ok',
      result: { v: `${'a'.repeat(40)}!` },
      durationMs: 1,
      truncated: false,
    });
    const tools = await mcp(target.url, target.adminKey, 'tools/list');
    const tool = (tools.result.tools as Array<{ name: string; title?: string; outputSchema?: unknown }>).find(
      (t) => t.title === 'evil.echo',
    );
    expect(tool, JSON.stringify(tools)).toBeDefined();
    // The schema clients are given carries no pattern either: what the hub accepts, a client's validator accepts.
    expect(JSON.stringify(tool!.outputSchema ?? {})).not.toContain('pattern');

    const baseline = Math.max(...(await healthLatencies(target.url, 20)));
    const calls = Array.from({ length: 4 }, () =>
      mcp(target.url, target.adminKey, 'tools/call', { name: tool!.name, arguments: { agent: agent.name } }),
    );
    const during = healthLatencies(target.url, 20);
    const answers = await Promise.all(calls);
    const worst = Math.max(...(await during));
    for (const answer of answers) expect(toolJson(answer)).toMatchObject({ status: 'ok', data: { v: `${'a'.repeat(40)}!` } });
    expect(worst).toBeLessThan(baseline + 1_000);
  }, 60_000);
});
