import path from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seal } from '../../src/cluster/envelope.js';
import { clusterNames } from '../../src/cluster/names.js';
import type { HubCore } from '../../src/core.js';
import type { AgentView } from '../../src/services.js';
import { precondition } from '../../../test/support/preconditions.js';
import type { EnrolledAgent } from '../gateway/support/hub.js';
import { SimAgent } from '../gateway/support/sim-agent.js';
import { waitFor } from '../gateway/support/wait.js';
import { tempDir } from '../helpers.js';
import {
  enrollDirect,
  natsConnection,
  natsUp,
  rest,
  simOnline,
  simTarget,
  startCluster,
  testPrefix,
  type Cluster,
  type ClusterHub,
} from './support.js';

const nats = precondition(
  import.meta.url,
  'nats',
  await natsUp(),
  'no NATS server with JetStream on 127.0.0.1:4222 (.ci/services.sh starts one)',
);

interface ProbeAnswer {
  agent: string;
  status: string;
  result?: { answeredBy?: string };
  error?: { code: string; message: string };
}

/**
 * Three `sonde-hub serve` processes on one SQLite file joined over the machine's NATS server, with
 * scripted agents speaking the wire protocol spread across them.
 */
describe.skipIf(!nats.holds)('hubs joined over NATS', () => {
  const prefix = testPrefix();
  const { dir, cleanup } = tempDir('sonde-cluster-');
  const dbPath = path.join(dir, 'sonde.db');
  const hubs: ClusterHub[] = [];
  let cluster: Cluster | undefined;
  const sims: SimAgent[] = [];
  let nc: NatsConnection;
  let core: HubCore;
  let caCertPem: string;
  let adminKey: string;
  let a1: EnrolledAgent;
  let a3: EnrolledAgent;

  const probe = async (hub: ClusterHub, agent: string, timeoutMs = 5_000): Promise<ProbeAnswer> => {
    const answer = await rest<ProbeAnswer>(hub, adminKey, '/api/v1/probes', { agent, probe: 'system.info', params: {}, timeoutMs });
    expect(answer.status).toBe(200);
    return answer.body;
  };
  const fleet = async (hub: ClusterHub): Promise<AgentView[]> => (await rest<AgentView[]>(hub, adminKey, '/api/v1/agents')).body;
  const seesOnline = async (hub: ClusterHub, name: string): Promise<boolean> =>
    (await fleet(hub)).some((view) => view.name === name && view.status === 'online');
  const audited = async (action: string): Promise<Array<{ detail?: string | null; status: string }>> =>
    (await core.store.audit.query({ order: 'desc', limit: 200 })).filter((entry) => entry.action === action);

  beforeAll(async () => {
    cluster = await startCluster(dbPath, prefix, [{}, {}, {}], { core: true });
    hubs.push(...cluster.hubs);
    ({ core, caCertPem, adminKey } = cluster.shared!);
    nc = await natsConnection();
    a1 = await enrollDirect(core.store, 'agent-one');
    a3 = await enrollDirect(core.store, 'agent-three');
    sims.push(await simOnline(hubs[0], caCertPem, a1), await simOnline(hubs[2], caCertPem, a3));
  }, 60_000);

  afterAll(async () => {
    for (const sim of sims) sim.close();
    await nc?.close();
    await cluster?.stop();
    cleanup();
  });

  it('routes a probe from hub 1 to the agent on hub 3 and back, and serves its own agent locally', async () => {
    await waitFor(() => seesOnline(hubs[0], 'agent-three'), 'hub 1 sees agent-three online');
    expect(await probe(hubs[0], 'agent-three')).toMatchObject({
      agent: 'agent-three',
      status: 'ok',
      result: { answeredBy: 'agent-three' },
    });
    expect(await probe(hubs[0], 'agent-one')).toMatchObject({ status: 'ok', result: { answeredBy: 'agent-one' } });
  });

  it('shows the whole fleet from any hub', async () => {
    await waitFor(async () => (await seesOnline(hubs[1], 'agent-one')) && (await seesOnline(hubs[1], 'agent-three')), 'hub 2 sees both');
    expect(await probe(hubs[1], 'agent-one')).toMatchObject({ status: 'ok' });
  });

  it('times out a remote probe the agent never answers, as on one hub', async () => {
    const silent = await enrollDirect(core.store, 'agent-silent');
    const sim = await SimAgent.online(simTarget(hubs[2], caCertPem), silent);
    sims.push(sim);
    sim.startHeartbeats(500);
    await waitFor(() => seesOnline(hubs[0], 'agent-silent'), 'hub 1 sees agent-silent');
    const answer = await probe(hubs[0], 'agent-silent', 200);
    expect(answer.status).toBe('timeout');
    expect(answer.error?.code).toBe('SONDE_ERR_TIMEOUT');
    expect(answer.error?.message).toMatch(/agent-silent did not answer system\.info/);
  });

  it('keeps one live connection per identity across hubs', async () => {
    const clone = await SimAgent.connect(simTarget(hubs[1], caCertPem), a1);
    const answer = await clone.register();
    expect(answer.type).toBe('reject');
    expect(answer.payload).toMatchObject({ code: 'SONDE_ERR_DUPLICATE_IDENTITY' });
    expect((await clone.closed).code).toBe(4409);
    await waitFor(async () => (await audited('agent.duplicate_identity')).length > 0, 'the refusal audited');
    expect((await audited('agent.duplicate_identity'))[0].detail).toMatch(/a connection on hub hub-1 keeps the identity/);
    // The first connection still serves.
    expect(await probe(hubs[2], 'agent-one')).toMatchObject({ status: 'ok', result: { answeredBy: 'agent-one' } });
  });

  it('refuses and audits a forged and a replayed hub-to-hub request', async () => {
    const names = clusterNames(prefix);
    const body = { agentId: a1.id, probe: 'system.info', params: {}, timeoutMs: 1_000 };
    const forged = seal('probe', 'hub-1', body, { key: Buffer.alloc(32, 7), from: 'hub-2' });
    const refused = await nc.request(names.rpc('hub-1'), forged.data, { timeout: 2_000 });
    expect(Buffer.from(refused.data).toString()).toMatch(/^!.*SONDE_ERR_CLUSTER_AUTH.*bad MAC/);
    // A genuine request (sealed with the deployment's key), captured and sent again.
    const genuine = seal('probe', 'hub-1', body, { key: core.crypto.clusterKey, from: 'hub-2' });
    const first = await nc.request(names.rpc('hub-1'), genuine.data, { timeout: 5_000 });
    expect(Buffer.from(first.data).toString()).toContain('"answeredBy":"agent-one"');
    const replayed = await nc.request(names.rpc('hub-1'), genuine.data, { timeout: 2_000 });
    expect(Buffer.from(replayed.data).toString()).toMatch(/^!.*replayed/);
    await waitFor(async () => (await audited('cluster.message.refused')).length >= 2, 'both refusals audited');
    const entries = await audited('cluster.message.refused');
    expect(entries.map((entry) => entry.detail)).toEqual(
      expect.arrayContaining([expect.stringMatching(/bad MAC/), expect.stringMatching(/replayed/)]),
    );
    expect(entries.every((entry) => entry.status === 'denied')).toBe(true);
  });

  it('drains a stopping hub in slices: hub.drain only to agents that asked for it, identities released at once', async () => {
    const modern = await enrollDirect(core.store, 'agent-modern');
    const old = await enrollDirect(core.store, 'agent-old');
    const target = simTarget(hubs[1], caCertPem);
    const withHint = await SimAgent.connect(target, modern, { headers: { 'x-sonde-agent-features': 'drain' } });
    const without = await SimAgent.connect(target, old);
    sims.push(withHint, without);
    for (const sim of [withHint, without]) {
      expect((await sim.register()).type).toBe('hub.registered');
      sim.startHeartbeats(500);
    }
    await waitFor(async () => (await seesOnline(hubs[0], 'agent-modern')) && (await seesOnline(hubs[0], 'agent-old')), 'hub 1 sees both');
    await hubs[1].stop();
    expect((await withHint.closed).code).toBe(1012);
    expect((await without.closed).code).toBe(1012);
    const drain = withHint.received.find((message) => message.type === 'hub.drain');
    expect(drain?.payload).toMatchObject({ reason: 'hub shutting down' });
    expect((drain?.payload as { reconnectInMs: number }).reconnectInMs).toBeLessThanOrEqual(3_000);
    expect(without.received.some((message) => message.type === 'hub.drain')).toBe(false);
    // Released on the way out, not left to the lease (valid for 7-10 s more): hub 1 shows them offline sooner.
    await waitFor(
      async () =>
        (await fleet(hubs[0])).filter((view) => ['agent-modern', 'agent-old'].includes(view.name) && view.status === 'offline').length ===
        2,
      'hub 1 to see the drained agents offline',
      4_000,
    );
  });

  it('answers offline at once when the holder hub is gone, and its agents can register elsewhere', async () => {
    // SIGKILL: no drain, no release; its lease is still valid, so routing meets "no responders".
    hubs[2].process.child.kill('SIGKILL');
    await hubs[2].stop();
    // A request racing the NATS server's notice of the dead connection can still time out; after that, "no responders".
    let answer = await probe(hubs[0], 'agent-three', 2_000);
    for (let tries = 0; answer.status === 'timeout' && tries < 5; tries++) answer = await probe(hubs[0], 'agent-three', 2_000);
    expect(answer.status).toBe('offline');
    expect(answer.error?.code).toBe('SONDE_ERR_AGENT_OFFLINE');
    expect(answer.error?.message).toMatch(/hub hub-3, which held its connection, is gone/);
    // The agent comes back on hub 1: hub 3 still "holds" it in presence, but does not answer the liveness check.
    sims.push(await simOnline(hubs[0], caCertPem, a3));
    expect(await probe(hubs[0], 'agent-three')).toMatchObject({ status: 'ok', result: { answeredBy: 'agent-three' } });
  });
});
