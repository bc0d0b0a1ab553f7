import { spawn, type ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubCore } from '../../src/core.js';
import { precondition } from '../../../test/support/preconditions.js';
import type { SimAgent } from '../gateway/support/sim-agent.js';
import { waitFor } from '../gateway/support/wait.js';
import { tempDir } from '../helpers.js';
import { enrollDirect, rest, simOnline, startCluster, testPrefix, type Cluster, type ClusterHub } from './support.js';

const hasNatsServer = spawnSync('nats-server', ['--version']).status === 0;
const server = precondition(import.meta.url, 'nats-server', hasNatsServer, 'no nats-server binary on PATH (.ci/services.sh installs it)');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** A NATS server of this test's own (the machine's one is shared): JetStream on, its store in a temp folder kept across restarts. */
class OwnNats {
  private child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    public storeDir: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir], { stdio: 'ignore' });
    this.child = child;
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          const socket = net.connect({ host: '127.0.0.1', port: this.port });
          socket.once('connect', () => {
            socket.destroy();
            resolve(true);
          });
          socket.once('error', () => resolve(false));
        }),
      'nats-server to listen',
      10_000,
    );
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * NATS goes away (killed) and comes back with its JetStream store: the hubs keep serving their own agents during the
 * outage, and afterwards presence is right again without any agent reconnecting: an agent that registered on hub 2
 * while NATS was down (checked on hub 2 only) becomes visible and reachable from hub 1, and so does one registered before.
 */
describe.skipIf(!server.holds)('presence after a NATS outage', () => {
  const prefix = testPrefix();
  const { dir, cleanup } = tempDir('sonde-cluster-outage-');
  const dbPath = path.join(dir, 'sonde.db');
  const hubs: ClusterHub[] = [];
  let cluster: Cluster | undefined;
  const sims: SimAgent[] = [];
  let nats: OwnNats;
  let core: HubCore;
  let caCertPem: string;
  let adminKey: string;

  const statusOn = async (hub: ClusterHub, name: string): Promise<string | undefined> =>
    (await rest<Array<{ name: string; status: string }>>(hub, adminKey, '/api/v1/agents')).body.find((view) => view.name === name)?.status;
  const probe = async (hub: ClusterHub, agent: string): Promise<{ status: string; result?: { answeredBy?: string } }> =>
    (
      await rest<{ status: string; result?: { answeredBy?: string } }>(hub, adminKey, '/api/v1/probes', {
        agent,
        probe: 'system.info',
        params: {},
        timeoutMs: 3_000,
      })
    ).body;

  beforeAll(async () => {
    nats = new OwnNats(await freePort(), path.join(dir, 'nats'));
    await nats.start();
    const extra = { SONDE_NATS_URL: nats.url };
    cluster = await startCluster(dbPath, prefix, [extra, extra], { core: true });
    hubs.push(...cluster.hubs);
    ({ core, caCertPem, adminKey } = cluster.shared!);
  }, 60_000);

  afterAll(async () => {
    for (const sim of sims) sim.close();
    await cluster?.stop();
    await nats?.stop();
    cleanup();
  });

  it('re-checks presence once NATS is back: agents held by hub 2 are reachable from hub 1 again', async () => {
    const before = await enrollDirect(core.store, 'agent-before');
    sims.push(await simOnline(hubs[1], caCertPem, before));
    await waitFor(async () => (await statusOn(hubs[0], before.name)) === 'online', 'hub 1 sees agent-before online');

    await nats.stop();
    // During the outage hub 2 still admits and serves agents itself (the identity checked on hub 2 only).
    const during = await enrollDirect(core.store, 'agent-during');
    sims.push(await simOnline(hubs[1], caCertPem, during));
    expect(await probe(hubs[1], during.name)).toMatchObject({ status: 'ok', result: { answeredBy: during.name } });

    await nats.start();
    await waitFor(
      async () => (await statusOn(hubs[0], during.name)) === 'online' && (await statusOn(hubs[0], before.name)) === 'online',
      'hub 1 to see both agents online again',
      20_000,
    );
    expect(await probe(hubs[0], during.name)).toMatchObject({ status: 'ok', result: { answeredBy: during.name } });
    expect(await probe(hubs[0], before.name)).toMatchObject({ status: 'ok', result: { answeredBy: before.name } });
  }, 60_000);

  it('recovers when NATS comes back without its JetStream store (buckets, leases and presence all lost)', async () => {
    const agent = await enrollDirect(core.store, 'agent-wiped');
    sims.push(await simOnline(hubs[1], caCertPem, agent));
    await waitFor(async () => (await statusOn(hubs[0], agent.name)) === 'online', 'hub 1 sees agent-wiped online');

    await nats.stop();
    nats.storeDir = path.join(dir, 'nats-fresh');
    await nats.start();
    // Past a lease's validity (10 s): without its bucket a hub cannot renew its lease, and the others count it dead.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    await waitFor(async () => (await statusOn(hubs[0], agent.name)) === 'online', 'hub 1 to see agent-wiped online again', 10_000);
    expect(await probe(hubs[0], agent.name)).toMatchObject({ status: 'ok', result: { answeredBy: agent.name } });
    // And the lease bucket lives again: a hub that stops is seen gone by the other (its agents offline at once).
    await waitFor(async () => (await statusOn(hubs[1], 'agent-before')) === 'online', 'hub 2 keeps its own agents', 5_000);
  }, 60_000);
});
