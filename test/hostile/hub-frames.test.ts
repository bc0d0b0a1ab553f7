import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { MessageSchemas, PROTOCOL_VERSION, signEnvelope } from '@sonde/pack-sdk/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess } from '../../agent/test/support/cli.js';
import { startFixtureAgent, type FixtureAgent } from '../../agent/test/support/fixture-agent.js';
import { type HubConnectionRecord, type TestHub } from '../../agent/test/support/hub-double.js';
import { reportToSoak, soakClock } from './soak-report.js';

/**
 * The other direction: a hostile hub against a real agent. The test hub signs
 * every frame correctly with the CA key the agent trusts, so each one passes
 * the signature check and is judged on its content alone: unknown and
 * agent-only types, payloads of the wrong shape, huge strings and deep
 * nesting, out-of-order messages (a second `hub.registered`, results and
 * approvals nobody asked for), probe requests for probes that do not exist or
 * with parameters no schema accepts. Plus unsigned garbage. The agent must stay
 * up and connected, run nothing it should not (no fuzzed probe request gets an
 * `ok` result), keep its memory bounded and still answer a real probe after.
 *
 * SONDE_FUZZ_HUB_FRAMES (default 1,000) frames from SONDE_FUZZ_SEED (default: a new seed, printed).
 */
const SEED = Number(process.env.SONDE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const FRAMES = Number(process.env.SONDE_FUZZ_HUB_FRAMES ?? 1_000);
const TIMEOUT_MS = Number(process.env.SONDE_FUZZ_TIMEOUT_MS ?? 600_000);
const TYPES = Object.keys(MessageSchemas);
const MiB = 1024 * 1024;

let setup: FixtureAgent;
let hub: TestHub;
let agent: AgentProcess;
let agentId: string;

beforeAll(async () => {
  // Intervals of 5 s: the agent drops a hub silent for two, and signing big frames keeps this test process busy.
  setup = await startFixtureAgent('hostile-hub-target', { heartbeatIntervalMs: 5000 });
  ({ hub, agent, agentId } = setup);
}, 120_000);

afterAll(async () => {
  await setup?.stop();
});

/** The agent's own figure for its resident memory, from its newest heartbeat. */
async function agentRss(record: HubConnectionRecord): Promise<number> {
  const seen = record.received.length;
  const heartbeat = await hub.waitFor(() => record.received.slice(seen).find((m) => m.type === 'agent.heartbeat'), 15_000, 'a heartbeat');
  return (heartbeat.payload as { rssBytes: number }).rssBytes;
}

describe(`a hostile hub against a real agent (seed ${SEED}, ${FRAMES} frames)`, () => {
  it(
    'every correctly signed nonsense frame is refused; the agent stays up, runs nothing, and answers a real probe after',
    async () => {
      console.log(`hostile hub frames: seed ${SEED} (replay with SONDE_FUZZ_SEED=${SEED})`);
      const record = hub.live()!;
      const fuzzedRequests = new Set<string>();
      const signed = (type: string, payload: unknown, ts = Date.now()): string =>
        JSON.stringify(signEnvelope({ v: PROTOCOL_VERSION, id: randomUUID(), type, ts, agentId, payload }, hub.ca.key));
      const deep = (depth: number): unknown => {
        let value: unknown = 'bottom';
        for (let i = 0; i < depth; i++) value = { a: value };
        return value;
      };
      // Parameters no probe schema accepts: every fixture schema is strict, so an extra key is always refused.
      const badParams = fc
        .record({
          text: fc.oneof(
            fc.integer(),
            fc.string({ minLength: 501, maxLength: 2_000 }),
            fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })),
          ),
          extra: fc.jsonValue({ maxDepth: 6 }),
        })
        .map((params) => ({ ...params, ['__not_a_param']: true }));
      const probeRequest = fc
        .record({
          requestId: fc.uuid(),
          probe: fc.oneof(fc.constantFrom('fixture.echo', 'fixture.read', 'fixture.sleep', 'fixture.nope', 'nope'), fc.string()),
          params: fc.oneof(badParams, fc.jsonValue({ maxDepth: 6 })),
          timeoutMs: fc.oneof(fc.integer({ min: 100, max: 5_000 }), fc.jsonValue({ maxDepth: 6 })),
        })
        .map((payload) => {
          fuzzedRequests.add(payload.requestId);
          return signed('hub.probe.request', payload);
        });
      const frameArb: fc.Arbitrary<string> = fc.oneof(
        { arbitrary: probeRequest, weight: 4 },
        // Any type, any payload, correctly signed.
        {
          arbitrary: fc
            .tuple(fc.oneof(fc.constantFrom(...TYPES), fc.string()), fc.jsonValue({ maxDepth: 6 }))
            .map(([type, payload]) => signed(type, payload)),
          weight: 3,
        },
        // Out of order: a second registration answer, results and approvals nobody asked for.
        {
          arbitrary: fc
            .constantFrom('hub.registered', 'agent.probe.result', 'hub.packs.approve', 'hub.packs.reject', 'hub.drain', 'hub.revocations')
            .chain((type) => fc.jsonValue({ maxDepth: 6 }).map((payload) => signed(type, payload))),
          weight: 2,
        },
        {
          arbitrary: fc
            .integer({ min: 10_000, max: 900_000 })
            .map((n) => signed('hub.probe.request', { requestId: randomUUID(), probe: 'A'.repeat(n), params: {}, timeoutMs: 1000 })),
          weight: 1,
        },
        { arbitrary: fc.integer({ min: 100, max: 1_500 }).map((depth) => signed('hub.probe.cancel', deep(depth))), weight: 1 },
        // Stale and future timestamps on a valid-looking request.
        {
          arbitrary: fc
            .integer({ min: 10 * 60_000, max: 10 * 365 * 86_400_000 })
            .chain((skew) => fc.constantFrom(-skew, skew))
            .map((skew) =>
              signed(
                'hub.probe.request',
                { requestId: randomUUID(), probe: 'fixture.echo', params: { text: 'x' }, timeoutMs: 1000 },
                Date.now() + skew,
              ),
            ),
          weight: 1,
        },
        { arbitrary: fc.oneof(fc.string({ maxLength: 300 }), fc.json({ maxDepth: 5 })), weight: 2 },
        // Envelope-shaped with a payload nested far deeper than anything can sign or check by recursion.
        {
          arbitrary: fc
            .integer({ min: 10_000, max: 100_000 })
            .map(
              (depth) =>
                `{"v":${PROTOCOL_VERSION},"id":"${randomUUID()}","type":"hub.probe.request","ts":${Date.now()},"agentId":"${agentId}","payload":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)},"sig":"AAAA"}`,
            ),
          weight: 1,
        },
      );

      const rssBefore = await agentRss(record);
      // Made and sent in chunks of 25 (seeded per chunk, so a seed replays the same frames): making a frame signs it,
      // and the test hub must keep answering the agent's pings meanwhile, as a real hub would.
      let sent = 0;
      let slowestEchoMs = 0;
      const stopSending = soakClock();
      for (let chunk = 0; sent < FRAMES && !stopSending(); chunk++) {
        const frames = fc.sample(frameArb, { seed: SEED + chunk, numRuns: Math.min(25, FRAMES - sent) });
        for (const frame of frames) {
          if (record.socket.readyState !== record.socket.OPEN) {
            reportToSoak({ suite: 'hub-frames', seed: SEED, frames: sent, crashes: agent.child.exitCode === null ? 0 : 1 });
            throw new Error(
              `the agent closed its connection after frame ${sent} (seed ${SEED}); last frame: ${frame.slice(0, 300)}\nagent output:\n${agent.output().slice(-3000)}`,
            );
          }
          record.socket.send(frame);
          sent++;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
        // Every 1,000 frames a real probe, answered only once the agent has dealt with everything before it: the
        // agent must keep answering under the barrage, and the sender never runs more than 1,000 frames ahead (a
        // timed soak run sends as long as it may; unpaced, the last probe waited behind minutes of queued frames).
        if (chunk % 40 === 39) {
          const started = performance.now();
          const sync = await hub.probe('fixture.echo', { text: `after frame ${sent}` }, { record, timeoutMs: 60_000 });
          expect(
            sync.payload.status,
            `seed ${SEED}: a real probe after frame ${sent}: ${JSON.stringify(sync.payload).slice(0, 500)}\nagent output about packs:\n` +
              agent
                .output()
                .split('\n')
                .filter((line) => /pack|revok|revoc/i.test(line))
                .slice(-8)
                .join('\n')
                .slice(0, 4000),
          ).toBe('ok');
          slowestEchoMs = Math.max(slowestEchoMs, performance.now() - started);
        }
      }

      // A real request answered after the barrage: everything sent before it has been dealt with.
      const reply = await hub.probe('fixture.echo', { text: 'after the barrage' }, { record, timeoutMs: 30_000 });
      expect(reply.payload.status).toBe('ok');
      expect(agent.child.exitCode, agent.output().slice(-2000)).toBeNull();
      expect(hub.live(agentId)).toBe(record);

      const ran = record.received.filter(
        (m) => m.type === 'agent.probe.result' && fuzzedRequests.has(m.payload.requestId) && m.payload.status === 'ok',
      );
      expect(ran, `fuzzed probe requests that ran (seed ${SEED})`).toEqual([]);
      const refusals = record.received.filter((m) => m.type === 'agent.security' || m.type === 'reject').length;
      console.log(
        `hostile hub frames: ${sent} sent, ${refusals} refusals reported by the agent, ${fuzzedRequests.size} fuzzed probe requests, none ran; ` +
          `a real probe every 1,000 frames answered within ${slowestEchoMs.toFixed(0)} ms at worst`,
      );
      if (sent > 0) expect(refusals).toBeGreaterThan(0);

      const rssAfter = await agentRss(record);
      console.log(`hostile hub frames: agent RSS ${(rssBefore / MiB).toFixed(1)} MiB before, ${(rssAfter / MiB).toFixed(1)} MiB after`);
      // RSS keeps freed pages mapped, so this bounds a leak of the frames' size, not the allocator's slack.
      reportToSoak({
        suite: 'hub-frames',
        seed: SEED,
        frames: sent,
        crashes: agent.child.exitCode === null ? 0 : 1,
        memoryBeforeBytes: rssBefore,
        memoryAfterBytes: rssAfter,
        memory: 'agent (own process) RSS from its heartbeat',
        refusals,
        slowestEchoMs,
      });
      expect(rssAfter - rssBefore).toBeLessThan(150 * MiB);
    },
    TIMEOUT_MS,
  );
});
