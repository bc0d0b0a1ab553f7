import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubCore } from '../../src/core.js';
import { CloseCodes } from '../../src/gateway/codes.js';
import { precondition } from '../../../test/support/preconditions.js';
import { SimAgent } from '../gateway/support/sim-agent.js';
import { waitFor } from '../gateway/support/wait.js';
import { tempDir } from '../helpers.js';
import type { EnrolledAgent } from '../gateway/support/hub.js';
import { enrollDirect, natsUp, rest, startCluster, testPrefix, type Cluster, type ClusterHub } from './support.js';

const nats = precondition(
  import.meta.url,
  'nats',
  await natsUp(),
  'no NATS server with JetStream on 127.0.0.1:4222 (.ci/services.sh starts one)',
);

/**
 * Administrative acts on one hub that must take effect on the hub holding the agent (or answering the caller):
 * key revocation, pack approval, agent removal, the signed revocation list. The hubs' heartbeat interval is long
 * (30 s) and the scripted agents send no heartbeats, so the holder's own credential re-check (run at an agent heartbeat) cannot stand in for the push
 * between hubs: what closes a socket within the bound below is the message from the other hub.
 */
const PUSH_BOUND_MS = 3_000;

describe.skipIf(!nats.holds)('administration on one hub reaches the others', () => {
  const prefix = testPrefix();
  const { dir, cleanup } = tempDir('sonde-cluster-admin-');
  const dbPath = path.join(dir, 'sonde.db');
  const hubs: ClusterHub[] = [];
  let cluster: Cluster | undefined;
  const sims: SimAgent[] = [];
  let core: HubCore;
  let caCertPem: string;
  let adminKey: string;

  const seesOnline = async (hub: ClusterHub, name: string): Promise<boolean> =>
    (await rest<Array<{ name: string; status: string }>>(hub, adminKey, '/api/v1/agents')).body.some(
      (view) => view.name === name && view.status !== 'offline',
    );
  const call = async <T>(hub: ClusterHub, method: string, pathname: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${hub.url}${pathname}`, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const closedWithin = async (sim: SimAgent, ms: number): Promise<{ code: number; reason: string } | 'still open'> =>
    Promise.race([sim.closed, new Promise<'still open'>((resolve) => setTimeout(() => resolve('still open'), ms))]);

  beforeAll(async () => {
    const extra = { SONDE_HEARTBEAT_MS: '30000' };
    cluster = await startCluster(dbPath, prefix, [extra, extra], { core: true });
    hubs.push(...cluster.hubs);
    ({ core, caCertPem, adminKey } = cluster.shared!);
  }, 60_000);

  afterAll(async () => {
    for (const sim of sims) sim.close();
    await cluster?.stop();
    cleanup();
  });

  it('refuses a user key revoked on hub 1 on hub 2 at once (no cache between the store and authentication)', async () => {
    const created = await call<{ key: { id: string }; rawKey: string }>(hubs[0], 'POST', '/api/v1/api-keys', {
      name: 'revoked-across',
      role: 'member',
    });
    expect(created.status).toBe(201);
    const asMember = (hub: ClusterHub) =>
      fetch(`${hub.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${created.body.rawKey}` } });
    expect((await asMember(hubs[1])).status).toBe(200);
    expect((await call(hubs[0], 'DELETE', `/api/v1/api-keys/${created.body.key.id}`)).status).toBe(200);
    // The very next request on the other hub, no wait.
    expect((await asMember(hubs[1])).status).toBe(401);
  });

  it('closes the socket on hub 2 of an agent whose key is revoked on hub 1', async () => {
    const agent = await enrollDirect(core.store, 'agent-key-revoked');
    const sim = await quietOnline(hubs[1], agent);
    sims.push(sim);
    await waitFor(() => seesOnline(hubs[0], agent.name), 'hub 1 sees the agent');
    const started = Date.now();
    expect((await call(hubs[0], 'DELETE', `/api/v1/api-keys/${agent.keyId}`)).status).toBe(200);
    const closed = await closedWithin(sim, PUSH_BOUND_MS);
    expect(closed).toMatchObject({ code: CloseCodes.removed });
    expect(Date.now() - started).toBeLessThan(PUSH_BOUND_MS);
  });

  it('closes the socket on hub 2 of an agent removed on hub 1, and hub 1 shows it gone', async () => {
    const agent = await enrollDirect(core.store, 'agent-removed');
    const sim = await quietOnline(hubs[1], agent);
    sims.push(sim);
    await waitFor(() => seesOnline(hubs[0], agent.name), 'hub 1 sees the agent');
    expect((await call(hubs[0], 'DELETE', `/api/v1/agents/${agent.id}`)).status).toBe(204);
    expect(await closedWithin(sim, PUSH_BOUND_MS)).toMatchObject({ code: CloseCodes.removed });
    await waitFor(async () => !(await seesOnline(hubs[1], agent.name)), 'hub 2 no longer lists it online', PUSH_BOUND_MS);
    // It cannot come back on either hub.
    await expect(SimAgent.online(simTarget(hubs[0]), agent)).rejects.toThrow(/upgrade refused with 401|registration refused/);
  });

  it('relays an approval made on hub 1 to the agent on hub 2, which gets exactly the reviewed candidate', async () => {
    const agent = await enrollDirect(core.store, 'agent-approve');
    const digest = 'd'.repeat(64);
    const sim = await SimAgent.online(simTarget(hubs[1]), agent, {
      packs: [
        { name: 'system', version: '1.0.0', state: 'active' },
        { name: 'nginx', version: '0.0.0', state: 'pending', pending: { version: '2.1.0', permissionsSha256: digest, added: [] } },
      ],
    });
    sims.push(sim);
    await waitFor(async () => {
      const view = (
        await rest<Array<{ name: string; packs: Array<{ name: string; pending?: unknown }> }>>(hubs[0], adminKey, '/api/v1/agents')
      ).body.find((candidate) => candidate.name === agent.name);
      return Boolean(view?.packs.some((pack) => pack.name === 'nginx' && pack.pending));
    }, 'hub 1 sees the pending candidate');
    const approval = sim.next('hub.packs.approve', 10_000);
    const answered = call<{ ok?: boolean; version?: string }>(hubs[0], 'POST', `/api/v1/agents/${agent.id}/packs/nginx/approve`, {
      version: '2.1.0',
      permissionsSha256: digest,
    });
    const message = await approval;
    expect(message.payload).toMatchObject({ pack: 'nginx', version: '2.1.0', permissionsSha256: digest });
    sim.send('agent.packs.approve.result', { requestId: (message.payload as { requestId: string }).requestId, ok: true });
    expect(await answered).toMatchObject({ status: 200, body: { ok: true, version: '2.1.0' } });
  });

  it('relays a rejection made on hub 1 to the agent on hub 2, pinned to the reviewed candidate', async () => {
    const agent = await enrollDirect(core.store, 'agent-reject');
    const digest = 'f'.repeat(64);
    const sim = await SimAgent.connect(simTarget(hubs[1]), agent, { headers: { 'x-sonde-agent-features': 'drain, pack-reject' } });
    sims.push(sim);
    const registered = await sim.register({
      packs: [{ name: 'nginx', version: '0.0.0', state: 'pending', pending: { version: '2.2.0', permissionsSha256: digest, added: [] } }],
    });
    expect(registered.type).toBe('hub.registered');
    await waitFor(async () => {
      const view = (
        await rest<Array<{ name: string; packs: Array<{ name: string; pending?: unknown }> }>>(hubs[0], adminKey, '/api/v1/agents')
      ).body.find((candidate) => candidate.name === agent.name);
      return Boolean(view?.packs.some((pack) => pack.name === 'nginx' && pack.pending));
    }, 'hub 1 sees the pending candidate');
    const rejection = sim.next('hub.packs.reject', 10_000);
    const answered = call<{ ok?: boolean; version?: string }>(hubs[0], 'POST', `/api/v1/agents/${agent.id}/packs/nginx/reject`, {
      version: '2.2.0',
      permissionsSha256: digest,
    });
    const message = await rejection;
    expect(message.payload).toMatchObject({ pack: 'nginx', version: '2.2.0', permissionsSha256: digest });
    sim.send('agent.packs.reject.result', { requestId: (message.payload as { requestId: string }).requestId, ok: true });
    expect(await answered).toMatchObject({ status: 200, body: { ok: true, version: '2.2.0' } });
  });

  it('pushes a revocation list signed on hub 1 to an agent on hub 2 within the bound', async () => {
    const agent = await enrollDirect(core.store, 'agent-revocations');
    const sim = await quietOnline(hubs[1], agent);
    sims.push(sim);
    await waitFor(() => seesOnline(hubs[0], agent.name), 'hub 1 sees the agent');
    const pushed = sim.next('hub.revocations', PUSH_BOUND_MS);
    const revoked = await call<{ list: { serial: number } }>(hubs[0], 'POST', '/api/v1/revocations', {
      packs: [{ pack: 'nginx', versions: '<2.0.0', reason: 'cross-hub test' }],
    });
    expect(revoked.status).toBe(200);
    const message = await pushed;
    expect((message.payload as { list: { serial: number } }).list.serial).toBe(revoked.body.list.serial);
  });

  /** Online without heartbeats: the holder's own re-check of the credentials runs at a heartbeat, so only a push can close it. */
  async function quietOnline(hub: ClusterHub, agent: EnrolledAgent): Promise<SimAgent> {
    return SimAgent.online(simTarget(hub), agent);
  }

  function simTarget(hub: ClusterHub) {
    return { wsUrl: hub.wsUrl, ca: { certPem: caCertPem }, heartbeatMs: 1_000 } as unknown as Parameters<typeof SimAgent.online>[0];
  }
});
