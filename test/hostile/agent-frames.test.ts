import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { MessageSchemas, PROTOCOL_VERSION, signEnvelope } from '@sonde/pack-sdk/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../../hub/test/gateway/support/hub.js';
import { SimAgent } from '../../hub/test/gateway/support/sim-agent.js';
import { reportToSoak, soakClock } from './soak-report.js';

/**
 * Hostile frames on /ws/agent from an enrolled, registered agent (a compromised agent is inside the authentication):
 * bad JSON, wrong types, huge strings, deep nesting, binary, envelopes with forged signatures, valid signatures over
 * invalid payloads and unknown types, replays and out-of-order messages. Each must end in a reject or a close,
 * never a crash or a hang of the gateway, and memory must stay bounded.
 *
 * CI runs SONDE_FUZZ_FRAMES (default 1,000) frames from SONDE_FUZZ_SEED (default: a new seed, printed);
 * `node scripts/soak.mjs` runs 100,000 and more. A failure names the seed: rerun with it to replay the same frames.
 */
const SEED = Number(process.env.SONDE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const FRAMES = Number(process.env.SONDE_FUZZ_FRAMES ?? 1_000);
const TIMEOUT_MS = Number(process.env.SONDE_FUZZ_TIMEOUT_MS ?? 180_000);
const MiB = 1024 * 1024;
const TYPES = Object.keys(MessageSchemas);

/**
 * Live memory after a full collection: heap plus buffers. RSS alone is not a bound: V8 and glibc keep freed pages
 * mapped, so RSS after megabyte-sized frames says how big the frames were, not whether anything was kept.
 */
function liveBytes(hub: TestHub): number {
  // The test hub keeps every log line and audit entry in arrays for other tests to read: that is the harness's memory,
  // not the gateway's, so it is emptied before each measurement.
  hub.logs.length = 0;
  hub.audit.entries.length = 0;
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

describe(`hostile agent frames (seed ${SEED}, ${FRAMES} frames)`, () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ agents: 4, heartbeatMs: 60_000 });
  });
  afterAll(async () => hub?.close());

  it(
    'every frame gets a reject or a close; the gateway keeps serving other agents; memory stays bounded',
    async () => {
      console.log(`hostile agent frames: seed ${SEED} (replay with SONDE_FUZZ_SEED=${SEED})`);
      const agent = await hub.enroll('fuzz-1');
      const signed = (type: string, payload: unknown, agentId = agent.id): string =>
        JSON.stringify(
          signEnvelope(
            { v: PROTOCOL_VERSION, id: randomUUID(), type: type, ts: Date.now(), agentId, payload: payload },
            agent.privateKeyPem,
          ),
        );
      const deep = (depth: number, open: string, close: string): string => open.repeat(depth) + close.repeat(depth);
      const frameArb: fc.Arbitrary<string | Buffer> = fc.oneof(
        { arbitrary: fc.string({ maxLength: 300 }), weight: 3 },
        { arbitrary: fc.json({ maxDepth: 6 }), weight: 3 },
        { arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)), weight: 1 },
        { arbitrary: fc.integer({ min: 10_000, max: 1_200_000 }).map((n) => `"${'A'.repeat(n)}"`), weight: 1 },
        { arbitrary: fc.integer({ min: 100, max: 200_000 }).map((d) => deep(d, '[', ']')), weight: 1 },
        { arbitrary: fc.integer({ min: 100, max: 50_000 }).map((d) => deep(d, '{"a":', '}')), weight: 1 },
        {
          // Envelope-shaped, forged or missing signature.
          arbitrary: fc
            .record({
              v: fc.oneof(fc.constant(PROTOCOL_VERSION), fc.anything()),
              id: fc.oneof(fc.uuid(), fc.anything()),
              type: fc.oneof(fc.constantFrom(...TYPES), fc.string()),
              ts: fc.oneof(fc.constant(Date.now()), fc.anything()),
              agentId: fc.oneof(fc.constant(agent.id), fc.string()),
              payload: fc.anything(),
              sig: fc.oneof(fc.base64String(), fc.anything()),
            })
            .map((envelope) => JSON.stringify(envelope)),
          weight: 3,
        },
        {
          // Signed correctly by the agent's own key over payloads that are not what the type needs, or unknown types.
          // JSON values only: a real agent can sign only what canonical JSON encodes (no NaN, Infinity, undefined).
          arbitrary: fc
            .record({ type: fc.oneof(fc.constantFrom(...TYPES), fc.string({ maxLength: 40 })), payload: fc.jsonValue({ maxDepth: 8 }) })
            .map(({ type, payload }) => signed(type, payload)),
          weight: 5,
        },
        {
          // Signed, well-formed, but claiming another agent, or a hub-only message type.
          arbitrary: fc
            .constantFrom('hub.probe.request', 'hub.registered', 'agent.heartbeat')
            .map((type) =>
              type === 'agent.heartbeat'
                ? signed(type, { uptimeS: 1, running: 0, rssBytes: 1 }, randomUUID())
                : signed(type, { requestId: randomUUID(), probe: 'system.x', params: {}, timeoutMs: 1000 }),
            ),
          weight: 1,
        },
      );
      const frames = fc.sample(frameArb, { seed: SEED, numRuns: FRAMES });

      const rssBefore = process.memoryUsage().rss;
      const liveBefore = liveBytes(hub);
      let sim = await SimAgent.online(hub, agent);
      let lastFrame: string | undefined;
      const outcome = { rejected: 0, closed: 0, unanswered: 0, reconnects: 0 };
      let sent = 0;
      const stopSending = soakClock();
      for (let index = 0; index < frames.length && !stopSending(); index += 1) {
        const frame = frames[index];
        // Let go of each frame once sent: `'A'.repeat(n)` is a small rope until sending flattens it, so keeping the
        // sent frames would count megabytes of the test's own strings as the gateway's memory.
        frames[index] = '';
        // Now and then a replay of an earlier, valid frame.
        const toSend = index % 97 === 96 && lastFrame ? lastFrame : frame;
        if (typeof frame === 'string' && frame.includes('"sig"')) lastFrame = frame;
        const answer = sim.next(undefined, 3_000).then(
          () => 'answered' as const,
          () => 'silent' as const,
        );
        const closed = sim.closed.then(() => 'closed' as const);
        sim.sendRaw(toSend);
        sent += 1;
        const result = await Promise.race([answer, closed]);
        if (result === 'answered') outcome.rejected += 1;
        else if (result === 'closed') outcome.closed += 1;
        else outcome.unanswered += 1;
        if (result !== 'answered' || sim.ws.readyState !== sim.ws.OPEN) {
          sim.close();
          await sim.closed;
          sim = await SimAgent.online(hub, agent);
          outcome.reconnects += 1;
        }
      }
      sim.close();
      await sim.closed;
      const rssAfter = process.memoryUsage().rss;
      const liveAfter = liveBytes(hub);
      console.log(
        `hostile agent frames: ${sent} sent, ${outcome.rejected} rejected, ${outcome.closed} closed the connection, ` +
          `${outcome.unanswered} unanswered, ${outcome.reconnects} reconnects; RSS ${(rssBefore / MiB).toFixed(0)} → ${(rssAfter / MiB).toFixed(0)} MiB, ` +
          `live heap + buffers after a full GC ${(liveBefore / MiB).toFixed(0)} → ${(liveAfter / MiB).toFixed(0)} MiB`,
      );
      reportToSoak({
        suite: 'agent-frames',
        seed: SEED,
        frames: sent,
        crashes: 0,
        memoryBeforeBytes: liveBefore,
        memoryAfterBytes: liveAfter,
        memory: 'gateway (in-process) live heap + buffers after a full GC',
        ...outcome,
      });
      expect(outcome.rejected + outcome.closed + outcome.unanswered, `seed ${SEED}`).toBe(sent);
      // A frame the hub silently drops is a frame it did not judge: only valid-looking results for no pending request may be.
      expect(outcome.unanswered, `seed ${SEED}`).toBeLessThanOrEqual(Math.ceil(sent / 50));
      // Bounded means nothing the frames brought in is still held: some MiB for caches and the replay window (7–21 seen), never the frames themselves
      // (the largest single frame is over 1 MiB, a thousand of them over 100 MiB).
      const kept = liveAfter - liveBefore;
      expect(kept, `seed ${SEED}: ${(kept / MiB).toFixed(1)} MiB still live after a full GC`).toBeLessThan(48 * MiB);

      // Another agent still registers and answers a probe through the same gateway.
      const other = await SimAgent.online(hub, await hub.enroll('fuzz-bystander'));
      other.answerOk();
      const result = await hub.gateway.dispatcher.dispatch({ agent: 'fuzz-bystander', probe: 'system.disk.usage', params: {} });
      expect(result, `seed ${SEED}`).toMatchObject({ status: 'ok' });
      other.close();
    },
    TIMEOUT_MS,
  );
});
