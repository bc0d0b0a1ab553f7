import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { openHubCore, type HubCore } from '../../src/core.js';
import { sha256Hex } from '../../src/gateway/authenticate.js';
import type { HubStore } from '../../src/store/types.js';
import type { EnrolledAgent, TestHub as GatewayTestHub } from '../gateway/support/hub.js';
import { SimAgent } from '../gateway/support/sim-agent.js';
import { agentKey, TEST_SECRET, testEnv } from '../helpers.js';
import { startHubProcess, type RunningHub } from '../process.js';

export const NATS_URL = process.env.SONDE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** Whether a NATS server answers on the test URL (the precondition of every cluster test). */
export async function natsUp(): Promise<boolean> {
  const { hostname, port } = new URL(NATS_URL);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 4222) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.setTimeout(1_000, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** A prefix of its own per test file, so parallel files on one NATS server never meet. */
export function testPrefix(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

/** Deletes the KV buckets a test's hubs created. */
export async function dropBuckets(prefix: string): Promise<void> {
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    for (const bucket of [`${prefix}_hubs`, `${prefix}_presence`, `${prefix}_limits`])
      await jsm.streams.delete(`KV_${bucket}`).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

export async function natsConnection(): Promise<NatsConnection> {
  return connect({ servers: NATS_URL });
}

/** One hub process of a cluster (`sonde-hub serve`), all on one SQLite file and one NATS prefix. */
export interface ClusterHub {
  hubId: string;
  url: string;
  wsUrl: string;
  process: RunningHub;
  stop(): Promise<number | null>;
}

export function clusterEnv(dbPath: string, prefix: string, hubId: string, extra: Record<string, string> = {}): Record<string, string> {
  return testEnv(dbPath, {
    SONDE_NATS_URL: NATS_URL,
    SONDE_NATS_PREFIX: prefix,
    SONDE_HUB_ID: hubId,
    SONDE_LOG_LEVEL: 'warn',
    ...extra,
  });
}

export async function startClusterHub(
  dbPath: string,
  prefix: string,
  hubId: string,
  extra: Record<string, string> = {},
): Promise<ClusterHub> {
  const hub = await startHubProcess(clusterEnv(dbPath, prefix, hubId, { ...extra, SONDE_LOG_LEVEL: 'info' }));
  return { hubId, url: hub.url, wsUrl: `${hub.url.replace(/^http/, 'ws')}/ws/agent`, process: hub, stop: () => hub.stop() };
}

export type SharedCore = { core: HubCore; caCertPem: string; adminKey: string };

export interface Cluster {
  hubs: ClusterHub[];
  /** The test's own view of the shared database (when asked for with `core: true`). */
  shared: SharedCore | undefined;
  /** Stops the hubs, closes the shared view and deletes the prefix's buckets (when on the machine's NATS). */
  stop(): Promise<void>;
}

/**
 * One hub per entry of `envs` (extra env for that hub), all on `dbPath` and `prefix`. The first hub creates the
 * database (salt, CA); the others and the test's own view of the store open it together once it exists, so a
 * cluster of N hubs costs two hub start-ups of wall time, not N. Nothing started is left running if a start fails.
 */
export async function startCluster(
  dbPath: string,
  prefix: string,
  envs: Array<Record<string, string>>,
  options: { core?: boolean } = {},
): Promise<Cluster> {
  const first = await startClusterHub(dbPath, prefix, 'hub-1', envs[0]);
  const [others, opened] = await Promise.all([
    Promise.allSettled(envs.slice(1).map((extra, index) => startClusterHub(dbPath, prefix, `hub-${index + 2}`, extra))),
    Promise.allSettled([options.core ? openSharedCore(dbPath) : undefined]),
  ]);
  const hubs = [first, ...others.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))];
  const shared = opened[0].status === 'fulfilled' ? opened[0].value : undefined;
  const failure = [...others, ...opened].find((result) => result.status === 'rejected');
  if (failure) {
    await Promise.all(hubs.map((hub) => hub.stop()));
    await shared?.core.close();
    throw failure.reason;
  }
  const ownNats = envs.some((extra) => extra.SONDE_NATS_URL !== undefined && extra.SONDE_NATS_URL !== NATS_URL);
  return {
    hubs,
    shared,
    stop: async () => {
      await Promise.all(hubs.map((hub) => hub.stop()));
      await shared?.core.close();
      // A test's own NATS server takes its buckets with it; on the machine's they would stay behind.
      if (!ownNats) await dropBuckets(prefix);
    },
  };
}

/** The test's own view of the shared database: store, keys (the cluster key included) and the CA certificate. */
export async function openSharedCore(dbPath: string): Promise<{ core: HubCore; caCertPem: string; adminKey: string }> {
  const core = await openHubCore({ dbPath, secret: TEST_SECRET, ca: false });
  const caCertPem = await core.store.settings.get('ca.cert');
  if (!caCertPem) throw new Error('the hub wrote no CA certificate');
  const adminKey = (await core.apiKeys.create({ name: `cluster-admin-${randomBytes(3).toString('hex')}`, role: 'admin' })).rawKey;
  return { core, caCertPem, adminKey };
}

export async function rest<T>(hub: ClusterHub, key: string, pathname: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${hub.url}${pathname}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** An agent record and key written straight into the shared store (as the gateway tests do). */
export async function enrollDirect(store: HubStore, name: string): Promise<EnrolledAgent> {
  const key = agentKey();
  const id = randomUUID();
  await store.agents.create({
    id,
    name,
    enrolledAt: new Date().toISOString(),
    certPem: '',
    certSerial: randomBytes(8).toString('hex'),
    certNotAfter: new Date(Date.now() + 365 * 86_400_000).toISOString(),
    publicKeyPem: key.publicKeyPem,
  });
  const apiKey = `sonde_agent_${randomBytes(24).toString('base64url')}`;
  const keyId = randomUUID();
  await store.apiKeys.create({
    id: keyId,
    name: `agent:${name}`,
    type: 'agent',
    role: 'member',
    hash: sha256Hex(apiKey),
    prefix: apiKey.slice(0, 8),
    policy: { allowedAgents: [], allowedProbes: [], allowedClients: [] },
    agentId: id,
    createdAt: new Date().toISOString(),
    lastUsedAt: null,
    revokedAt: null,
  });
  return { id, name, apiKey, keyId, privateKeyPem: key.privateKeyPem, publicKeyPem: key.publicKeyPem, certPem: '', serial: '' };
}

/** A scripted agent on one hub of the cluster (SimAgent wants a gateway TestHub: only wsUrl, CA and heartbeat matter). */
export function simTarget(hub: ClusterHub, caCertPem: string): GatewayTestHub {
  return { wsUrl: hub.wsUrl, ca: { certPem: caCertPem }, heartbeatMs: 1_000 } as unknown as GatewayTestHub;
}

export async function simOnline(hub: ClusterHub, caCertPem: string, agent: EnrolledAgent): Promise<SimAgent> {
  const sim = await SimAgent.online(simTarget(hub, caCertPem), agent);
  sim.startHeartbeats(500);
  sim.answerOk((request) => ({ probe: request.probe, answeredBy: agent.name }));
  return sim;
}
