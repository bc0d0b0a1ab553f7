import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubCore } from '../../src/core.js';
import { DEFAULT_AGENT_LIMITS } from '../../src/gateway/concurrency.js';
import { precondition } from '../../../test/support/preconditions.js';
import type { EnrolledAgent } from '../gateway/support/hub.js';
import { attestation, SimAgent } from '../gateway/support/sim-agent.js';
import { waitFor } from '../gateway/support/wait.js';
import { tempDir } from '../helpers.js';
import { systemManifest } from '../mcp/support/fake-packs.js';
import { enrollDirect, natsUp, simTarget, startCluster, testPrefix, type Cluster, type ClusterHub } from './support.js';

const nats = precondition(
  import.meta.url,
  'nats',
  await natsUp(),
  'no NATS server with JetStream on 127.0.0.1:4222 (.ci/services.sh starts one)',
);

const SLOTS = DEFAULT_AGENT_LIMITS.maxInFlight;

/**
 * A probe called through hub 1 for an agent held by hub 2 that the caller gives up on (its connection closes:
 * a REST client or an MCP client going away) is cancelled on hub 2 too: hub 2 stops waiting for the agent and
 * the agent's slots (8 running per agent, admitted on the hub holding it, for callers of every hub) are free at
 * once, not when the abandoned probes time out.
 */
describe.skipIf(!nats.holds)('cancelling a probe across hubs', () => {
  const prefix = testPrefix();
  const { dir, cleanup } = tempDir('sonde-cluster-cancel-');
  const dbPath = path.join(dir, 'sonde.db');
  const hubs: ClusterHub[] = [];
  let cluster: Cluster | undefined;
  const sims: SimAgent[] = [];
  let core: HubCore;
  let caCertPem: string;
  let adminKey: string;

  /** An agent on hub 2 that never answers `system.slow.probe` and answers everything else at once. */
  const busyAgent = async (name: string): Promise<{ agent: EnrolledAgent; sim: SimAgent; slowSeen: () => number }> => {
    const agent = await enrollDirect(core.store, name);
    const sim = await SimAgent.online(simTarget(hubs[1], caCertPem), agent, {
      attestation: attestation({ packs: [{ name: 'system', version: systemManifest.version, sha256: 'c'.repeat(64) }] }),
      packs: [{ name: 'system', version: systemManifest.version, state: 'active', manifest: systemManifest }],
    });
    sims.push(sim);
    sim.startHeartbeats(500);
    let slow = 0;
    sim.onProbe = (request) => {
      if (request.probe === 'system.slow.probe') {
        slow++;
        return undefined;
      }
      return { requestId: request.requestId, status: 'ok', result: { answeredBy: name }, durationMs: 1, truncated: false };
    };
    // Not hub 1's REST list saying "online": that reads the store, while its MCP catalog reads the fleet directory,
    // which learns of the agent's packs from the change feed a moment later. Wait until a call through hub 1 reaches
    // the agent, or the slow calls below are refused as "not served" (a CI run under load failed that way).
    await waitFor(async () => {
      const response = await mcpCall(hubs[0], name, 'system.disk.usage', AbortSignal.timeout(5_000)).catch(() => undefined);
      return Boolean(response && (await response.text()).includes(`answeredBy`));
    }, `a call through hub 1 reaches ${name} on hub 2`);
    return { agent, sim, slowSeen: () => slow };
  };

  const restProbe = (hub: ClusterHub, agent: string, probe: string, signal: AbortSignal, timeoutMs = 30_000): Promise<Response> =>
    fetch(`${hub.url}/api/v1/probes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agent, probe, params: {}, timeoutMs }),
      signal,
    });
  const mcpCall = (hub: ClusterHub, agent: string, probe: string, signal: AbortSignal): Promise<Response> =>
    fetch(`${hub.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${adminKey}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'probe', arguments: { agent, probe, params: {} } },
      }),
      signal,
    });
  /** A fast probe on hub 2 (the holder) answers within `ms`, or the caller gives up (`false`). */
  const answersWithin = async (agent: string, ms: number): Promise<boolean> => {
    try {
      const response = await restProbe(hubs[1], agent, 'system.disk.usage', AbortSignal.timeout(ms), 5_000);
      return ((await response.json()) as { status?: string }).status === 'ok';
    } catch {
      return false;
    }
  };

  beforeAll(async () => {
    cluster = await startCluster(dbPath, prefix, [{}, {}], { core: true });
    hubs.push(...cluster.hubs);
    ({ core, caCertPem, adminKey } = cluster.shared!);
  }, 60_000);

  afterAll(async () => {
    for (const sim of sims) sim.close();
    await cluster?.stop();
    cleanup();
  });

  it('REST: the holder admits callers of every hub into one agent’s slots, and frees them when the caller on hub 1 goes away', async () => {
    const { agent, slowSeen } = await busyAgent('agent-rest');
    const callers = Array.from({ length: SLOTS }, () => new AbortController());
    const calls = callers.map((caller) => restProbe(hubs[0], agent.name, 'system.slow.probe', caller.signal).catch(() => undefined));
    await waitFor(() => slowSeen() === SLOTS, `the agent to receive ${SLOTS} slow requests`);
    // Hub 1's callers hold every slot of the agent on hub 2: a caller on hub 2 waits.
    expect(await answersWithin(agent.name, 1_500)).toBe(false);
    for (const caller of callers) caller.abort();
    await Promise.all(calls);
    // Cancelled on hub 2 as well: the slots are free now, not in 30 s.
    expect(await answersWithin(agent.name, 3_000)).toBe(true);
  });

  it('MCP: a client that disconnects from hub 1 cancels its probes on hub 2', async () => {
    const { agent, slowSeen } = await busyAgent('agent-mcp');
    const callers = Array.from({ length: SLOTS }, () => new AbortController());
    // A call that ends before the abort is an answer the test did not expect: named if the agent never sees all of them.
    const early: string[] = [];
    const calls = callers.map((caller) =>
      mcpCall(hubs[0], agent.name, 'system.slow.probe', caller.signal)
        .then(async (response) => early.push(`${response.status} ${(await response.text()).slice(0, 300)}`))
        .catch(() => undefined),
    );
    // The first MCP request on hub 1 loads the MCP server code, which takes seconds on a loaded machine.
    await waitFor(() => slowSeen() === SLOTS, `the agent to receive ${SLOTS} slow requests`, 20_000).catch((error: Error) => {
      throw new Error(`${error.message}; answered before the abort: ${early.join(' | ') || 'none'}`);
    });
    expect(await answersWithin(agent.name, 1_500)).toBe(false);
    for (const caller of callers) caller.abort();
    await Promise.all(calls);
    expect(await answersWithin(agent.name, 3_000)).toBe(true);
  });
});
