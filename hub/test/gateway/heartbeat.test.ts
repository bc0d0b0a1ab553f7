// What the hub does per heartbeat once it stopped redoing work that has not
// changed (certificate parse, one commit per heartbeat, pings to agents that
// just spoke): credentials changed while connected still cut the agent off at
// the next check, also when another process (the CLI) made the change, and no
// last-seen time is lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHubStore } from '../../src/store/open.js';
import type { HubStore } from '../../src/store/types.js';
import { LAST_SEEN_FLUSH_MS } from '../../src/gateway/last-seen.js';
import { startTestHub, type TestHub } from './support/hub.js';
import { pooledRsa, warmRsa } from './support/pki.js';
import { SimAgent } from './support/sim-agent.js';
import { waitFor } from './support/wait.js';

let hub: TestHub;
/** A second store on the hub's database, writing as the headless CLI does while the hub runs. */
let cli: HubStore;
beforeAll(async () => {
  hub = await startTestHub({ tls: true });
  cli = await openHubStore(hub.dbPath);
  await warmRsa([43]);
});
afterAll(async () => {
  await cli.close();
  await hub.close();
});

let counter = 0;
const enroll = (): ReturnType<TestHub['enroll']> => hub.enroll(`beat-${++counter}`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const heartbeat = (sim: SimAgent): void => void sim.send('agent.heartbeat', { uptimeS: 1, running: 0, rssBytes: 1 });

/** Connects over mTLS (or with the agent key) and has the hub check the credentials once, so whatever it caches is cached. */
async function checkedOnce(options: { mtls: boolean }): Promise<SimAgent> {
  const agent = await enroll();
  const sim = await SimAgent.connect(
    hub,
    agent,
    options.mtls ? { authorization: null, cert: { certPem: agent.certPem, keyPem: agent.privateKeyPem } } : {},
  );
  expect((await sim.register()).type).toBe('hub.registered');
  heartbeat(sim);
  // The store is consulted at most twice per interval: the next heartbeat after this is checked again.
  await sleep(hub.heartbeatMs / 2 + 100);
  expect(sim.ws.readyState).toBe(sim.ws.OPEN);
  return sim;
}

describe('credentials changed while connected, after the hub checked them', () => {
  it('a certificate replaced by re-enrolment ends the mTLS session at the next heartbeat', async () => {
    const sim = await checkedOnce({ mtls: true });
    const keys = pooledRsa(43);
    const replacement = hub.ca.issueClient(sim.agent.name, keys.publicKeyPem);
    await hub.store.agents.replaceCredentials(sim.agent.id, {
      certPem: replacement.certPem,
      certSerial: replacement.serial,
      certNotAfter: new Date(Date.now() + 86_400_000).toISOString(),
      publicKeyPem: keys.publicKeyPem,
    });
    heartbeat(sim);
    expect((await sim.closed).code).toBe(4401);
  });

  it('a certificate replaced by another process ends the mTLS session at the next heartbeat', async () => {
    const sim = await checkedOnce({ mtls: true });
    const other = await enroll();
    await cli.agents.replaceCredentials(sim.agent.id, {
      certPem: other.certPem,
      certSerial: `replaced-${sim.agent.serial}`,
      certNotAfter: new Date(Date.now() + 86_400_000).toISOString(),
      publicKeyPem: other.publicKeyPem,
    });
    heartbeat(sim);
    expect((await sim.closed).code).toBe(4401);
  });

  it('removal by another process ends the mTLS session at the next heartbeat', async () => {
    const sim = await checkedOnce({ mtls: true });
    await cli.agents.remove(sim.agent.id, '2026-01-01T00:00:00.000Z');
    heartbeat(sim);
    expect((await sim.closed).code).toBe(4401);
  });

  it('an unchanged certificate keeps the session across checks', async () => {
    const sim = await checkedOnce({ mtls: true });
    heartbeat(sim);
    await sleep(hub.heartbeatMs / 2 + 100);
    heartbeat(sim);
    await sleep(200);
    expect(sim.ws.readyState).toBe(sim.ws.OPEN);
    sim.close();
  });

  it('an agent key revoked by another process ends the session at the next heartbeat', async () => {
    const sim = await checkedOnce({ mtls: false });
    await cli.apiKeys.revoke(sim.agent.keyId, '2026-01-01T00:00:00.000Z');
    heartbeat(sim);
    expect((await sim.closed).code).toBe(4401);
  });
});

describe('liveness pings', () => {
  it('an agent that heartbeats is not pinged; one that falls silent is, and its pongs keep it online', async () => {
    const sim = await SimAgent.online(hub, await enroll());
    let pings = 0;
    sim.ws.on('ping', () => (pings += 1));
    sim.startHeartbeats();
    await sleep(2.5 * hub.heartbeatMs);
    expect(pings).toBe(0);
    // Silent but alive (the socket still answers pings): pinged, and online past two intervals.
    sim.stopHeartbeats();
    await sleep(3 * hub.heartbeatMs);
    expect(pings).toBeGreaterThan(0);
    expect(hub.gateway.fleet.get(sim.agent.name)?.status).toBe('online');
    sim.close();
  });
});

describe('last-seen times', () => {
  const stored = async (id: string): Promise<string | null> => (await cli.agents.getById(id))?.lastSeenAt ?? null;

  it('reach the database within a second of a heartbeat, in one write for many agents', async () => {
    const sims = await Promise.all([await enroll(), await enroll(), await enroll()].map((agent) => SimAgent.online(hub, agent)));
    const registeredAt = await Promise.all(sims.map(async (sim) => (await stored(sim.agent.id))!));
    await sleep(hub.heartbeatMs / 2 + 100);
    for (const sim of sims) heartbeat(sim);
    await waitFor(
      async () => (await Promise.all(sims.map((sim) => stored(sim.agent.id)))).every((at, i) => at! > registeredAt[i]),
      'last-seen times written',
      LAST_SEEN_FLUSH_MS + 1_000,
    );
    for (const sim of sims) sim.close();
  });

  it('a hub that shuts down writes the last activity of every agent it closes', async () => {
    const own = await startTestHub({ agents: 2 });
    const db = await openHubStore(own.dbPath);
    try {
      const sim = await SimAgent.online(own, await own.enroll('closing-1'));
      await sleep(own.heartbeatMs / 2 + 100);
      heartbeat(sim);
      await sleep(100);
      const lastActivity = own.gateway.fleet.get('closing-1')!.lastSeenAt!;
      await own.gateway.close();
      expect((await db.agents.getById(sim.agent.id))?.lastSeenAt).toBe(lastActivity);
    } finally {
      await db.close();
      await own.close();
    }
  });
});
