import { z } from 'zod';
import { definePack, defineProbe } from '@sonde/pack-sdk';
import type { MessagePayload, PackStatus } from '@sonde/pack-sdk/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  enrollAgent,
  mcp,
  RawAgent,
  registerPayload,
  startHubUnderAttack,
  toolJson,
  waitFor,
  type EnrolledAgent,
  type HubUnderAttack,
  type Json,
} from '../../hub/test/security/support.js';

/**
 * Issue 25, "per-agent concurrency limits with queueing and a clear busy error, so 200 concurrent callers cannot
 * exhaust an agent", end to end: a real `sonde-hub serve` (default limits: 8 running and 32 waiting per agent), an
 * agent that holds every probe request until the test lets it answer, and 200 MCP clients calling a probe on it at
 * once. Every caller gets an answer: the probe's result, or `SONDE_ERR_AGENT_BUSY` with a message that says why and
 * what to do. The agent never has more than 8 requests at a time, and another agent on the same hub answers while
 * the first one is saturated. No timing is asserted: "none hang" is every call settling once the agent answers.
 */
const CALLERS = 200;
const RUNNING = 8;
const WAITING = 32;

function systemPack(): PackStatus {
  const { manifest } = definePack({
    name: 'system',
    description: 'Host basics.',
    permissions: {},
    probes: [
      defineProbe({
        name: 'disk.usage',
        description: 'Disk usage per filesystem.',
        params: z.object({}).strict(),
        result: z.object({ pct: z.number() }),
        handler: () => Promise.resolve({ pct: 1 }),
      }),
    ],
  });
  return { name: manifest.name, version: manifest.version, state: 'active', manifest };
}

/** Online with the system pack active and attested, as a real agent registers. */
async function online(agent: EnrolledAgent): Promise<RawAgent> {
  const pack = systemPack();
  const base = registerPayload(agent, { packs: [pack] });
  return RawAgent.online(agent, { packs: [pack], attestation: base.attestation });
}

const answer = (request: MessagePayload<'hub.probe.request'>, pct: number): MessagePayload<'agent.probe.result'> => ({
  requestId: request.requestId,
  status: 'ok',
  result: { pct },
  durationMs: 1,
  truncated: false,
});

describe('200 concurrent MCP callers on one agent (real hub process, default per-agent limits)', () => {
  let target: HubUnderAttack;
  let busy: RawAgent;
  let other: RawAgent;
  beforeAll(async () => {
    // The raw agents send no heartbeats and answer the hub's pings from this process, which 200 callers keep busy: a
    // 10 s interval (offline after 20 s of silence) keeps a loaded machine from taking them offline mid-test.
    target = await startHubUnderAttack({ SONDE_HEARTBEAT_MS: '10000' });
    busy = await online(await enrollAgent(target.url, target.adminKey, 'busy-1'));
    other = await online(await enrollAgent(target.url, target.adminKey, 'other-1'));
    other.onProbe = (request) => answer(request, 2);
  }, 60_000);
  afterAll(async () => {
    busy?.close();
    other?.close();
    await target?.stop();
  });

  it('answers every caller: 8 run, 32 wait their turn, the rest get SONDE_ERR_AGENT_BUSY at once; another agent stays responsive', async () => {
    // The agent holds each request until released; it counts how many it holds at once.
    const held: MessagePayload<'hub.probe.request'>[] = [];
    let peak = 0;
    busy.onProbe = (request) => {
      held.push(request);
      peak = Math.max(peak, held.length);
      return undefined;
    };
    const call = (agent: string): Promise<Json> =>
      mcp(target.url, target.adminKey, 'tools/call', { name: 'probe', arguments: { agent, probe: 'system.disk.usage', params: {} } });
    const settled: Json[] = [];
    const calls = Array.from({ length: CALLERS }, () => call('busy-1').then((result) => (settled.push(result), result)));

    // The busy answers come while the agent still holds its first 8: they do not wait for a slot.
    const isBusy = (result: Json): boolean => result.result?.isError === true && toolJson(result).error?.code === 'SONDE_ERR_AGENT_BUSY';
    const refused = await waitFor(
      () => {
        const busyAnswers = settled.filter(isBusy);
        return busyAnswers.length === CALLERS - RUNNING - WAITING && held.length === RUNNING ? busyAnswers : undefined;
      },
      `${CALLERS - RUNNING - WAITING} busy answers and ${RUNNING} requests held by the agent`,
      60_000,
    ).catch((error: Error) => {
      const others = settled.filter((result) => !isBusy(result)).map((result) => JSON.stringify(result).slice(0, 300));
      throw new Error(
        `${error.message}: ${settled.filter(isBusy).length} busy, ${held.length} held, other answers: ${others.slice(0, 3).join(' | ') || 'none'}; ` +
          `hub log about busy-1: ${target.hub
            .output()
            .split('\n')
            .filter((line) => line.includes('busy-1'))
            .slice(-5)
            .join(' | ')}`,
      );
    });
    for (const result of refused) {
      expect(toolJson(result).error.message).toMatch(
        /agent busy-1 is busy: 8 probes running and 32 waiting \(limits 8 and 32\); try again shortly/,
      );
    }
    expect(settled).toHaveLength(CALLERS - RUNNING - WAITING);

    // Another agent on the same hub answers meanwhile: the saturated one holds only its own slots.
    const meanwhile = await call('other-1');
    expect(toolJson(meanwhile)).toMatchObject({ agent: 'other-1', status: 'ok', data: { pct: 2 } });
    expect(held).toHaveLength(RUNNING);

    // The agent answers what it holds, one at a time: each answer lets one waiting caller in, never a ninth at once.
    let answered = 0;
    while (answered < RUNNING + WAITING) {
      const next = await waitFor(() => held.shift(), 'the next request at the agent', 30_000);
      busy.send('agent.probe.result', answer(next, 1));
      answered += 1;
    }
    const results = await Promise.all(calls);
    const ok = results.filter((result) => !result.result?.isError);
    expect(ok).toHaveLength(RUNNING + WAITING);
    for (const result of ok) expect(toolJson(result)).toMatchObject({ agent: 'busy-1', status: 'ok', data: { pct: 1 } });
    expect(results.filter((result) => result.result?.isError)).toHaveLength(CALLERS - RUNNING - WAITING);
    expect(peak).toBe(RUNNING);
    // The slots are all free again: the next caller runs at once.
    busy.onProbe = (request) => answer(request, 3);
    expect(toolJson(await call('busy-1'))).toMatchObject({ status: 'ok', data: { pct: 3 } });
  }, 120_000);
});
