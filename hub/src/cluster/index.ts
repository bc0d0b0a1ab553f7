import { randomBytes } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import { sameButLastSeen, type AgentDirectory } from '../fleet/directory.js';
import type { AgentGateway, IdentityClaims } from '../gateway/types.js';
import type { AuditLog, ProbeDispatcher } from '../services.js';
import type { AgentRecord, HubStore } from '../store/types.js';
import { ClusterBus } from './bus.js';
import { ClusterDispatcher, RemoteCalls, serveRemoteProbe } from './dispatcher.js';
import { ClusterFleet } from './fleet.js';
import { HubLeases } from './lease.js';
import { SharedAttemptCounters } from './limits.js';
import { clusterNames } from './names.js';
import { Presence } from './presence.js';

export { ClusterBus } from './bus.js';
export { clusterNames } from './names.js';

export interface ClusterConfig {
  /** NATS server URLs, e.g. `nats://127.0.0.1:4222`. */
  servers: string[];
  user?: string | undefined;
  password?: string | undefined;
  /** Subjects and buckets start with it (several deployments on one NATS server). */
  prefix: string;
  /** This hub's id; a random one per start when unset. */
  hubId?: string | undefined;
  leaseMs?: number;
  refreshMs?: number;
  /** Shutdown: agents are closed in this many slices over `drainSpreadMs`. */
  drainSlices?: number;
  drainSpreadMs?: number;
}

export interface ClusterDeps {
  config: ClusterConfig;
  store: HubStore;
  directory: AgentDirectory;
  audit: AuditLog;
  key: Buffer;
  log: FastifyBaseLogger;
  /** The hub's public URL, shown in its lease. */
  url: () => string | null;
}

interface RevocationSource {
  current(): Promise<unknown>;
  onChange(listener: (list: unknown) => void): () => void;
}

/** How often (at most) record changes of this hub are announced to the others. */
const ANNOUNCE_EVERY_MS = 25;
const DEFAULT_LEASE_MS = 10_000;
const DEFAULT_REFRESH_MS = 3_000;
/** A registration waits at most this long for the presence claim before the identity is checked on this hub only. */
const CLAIM_TIMEOUT_MS = 3_000;
/** Each NATS step of a shutdown waits at most this long. */
const SHUTDOWN_NATS_MS = 2_000;
/** The longest failure window counted in the shared bucket (login: 15 minutes), plus room. */
const LIMITS_MAX_AGE_MS = 20 * 60_000;
/** A login waits at most this long for NATS before the hub's own count decides. */
const LIMITS_TIMEOUT_MS = 1_500;

const AgentsEventSchema = z.object({ ids: z.array(z.string().uuid()).max(10_000) }).strict();
const DisconnectSchema = z.object({ agentId: z.string().uuid(), reason: z.string().max(500) }).strict();
const HolderAliveSchema = z.object({ agentId: z.string().uuid(), timeoutMs: z.number().int().min(1).max(10_000) }).strict();
const ApproveSchema = z
  .object({
    agentId: z.string().uuid(),
    request: z.object({ pack: z.string(), version: z.string(), permissionsSha256: z.string(), by: z.string() }).strict(),
  })
  .strict();

/**
 * Several hubs behaving as one (hub/src/cluster/README.md): NATS for routing and presence.
 * `startCluster` connects, writes this hub's lease and loads presence; the gateway is then built
 * with `cluster.claims` and `cluster.revocations(...)`, and `cluster.wrap(gateway)` gives the
 * gateway every other part of the hub uses (whole-fleet view, cross-hub dispatch, approvals and
 * disconnects that reach the holder hub).
 */
export class Cluster {
  readonly hubId: string;
  readonly bus: ClusterBus;
  readonly presence: Presence;
  readonly leases: HubLeases;
  /** Failure windows (login throttling) every hub counts in. */
  readonly limits: SharedAttemptCounters;
  private leaseChanges = 0;
  private gateway: AgentGateway | undefined;
  private readonly announce = new Set<string>();
  private announceTimer: NodeJS.Timeout | undefined;
  private readonly known = new Map<string, AgentRecord>();
  private readonly stops: Array<() => void> = [];
  private readonly revocationListeners = new Set<(list: unknown) => void>();
  private revocationSource: RevocationSource | undefined;
  private closed = false;
  /** NATS connection lost (until the client reconnects): claims are checked on this hub only, at once. */
  private natsDown = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly deps: ClusterDeps,
    hubId: string,
    leases: HubLeases,
    presence: Presence,
    limits: SharedAttemptCounters,
  ) {
    this.hubId = hubId;
    this.limits = limits;
    this.leases = leases;
    this.presence = presence;
    this.bus = new ClusterBus({
      nc,
      names: clusterNames(deps.config.prefix),
      hubId,
      key: deps.key,
      audit: deps.audit,
      log: deps.log,
    });
  }

  static async start(deps: ClusterDeps): Promise<Cluster> {
    const { config, log } = deps;
    const hubId = config.hubId ?? `hub-${randomBytes(5).toString('hex')}`;
    const names = clusterNames(config.prefix);
    const nc = await connect({
      servers: config.servers,
      name: `sonde-hub ${hubId}`,
      maxReconnectAttempts: -1,
      ...(config.user ? { user: config.user, pass: config.password ?? '' } : {}),
    });
    try {
      if (!nc.info?.jetstream) throw new Error('the NATS server has no JetStream (start it with -js)');
      const leaseMs = config.leaseMs ?? DEFAULT_LEASE_MS;
      const { hubsKv, presenceKv, limitsKv } = await openBuckets(nc, names, leaseMs);
      const leases = new HubLeases(hubsKv, {
        hubId,
        url: deps.url(),
        leaseMs,
        refreshMs: config.refreshMs ?? DEFAULT_REFRESH_MS,
        log,
      });
      await leases.start();
      const presence = new Presence(presenceKv, leases, hubId, log);
      await presence.start();
      const cluster = new Cluster(nc, deps, hubId, leases, presence, new SharedAttemptCounters(limitsKv, log));
      cluster.listen();
      void cluster.followConnection().catch((err: unknown) => log.warn({ err }, 'NATS status stream ended'));
      log.info({ hubId, servers: config.servers, prefix: config.prefix }, 'joined the hub cluster over NATS');
      return cluster;
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw error;
    }
  }

  /** The cross-hub identity claim the gateway makes after its local one (registration.ts). */
  get claims(): IdentityClaims {
    return {
      claim: async (agentId) => {
        if (this.natsDown) {
          // Re-claimed when NATS is back (reassert), so the other hubs see the agent again without a reconnect.
          this.deps.log.warn({ agentId }, 'NATS unreachable: identity checked on this hub only');
          return { ok: true };
        }
        try {
          const outcome = await withTimeout(
            this.presence.claim(agentId, (hubId, id) => this.askHolder(hubId, id)),
            CLAIM_TIMEOUT_MS,
            'presence claim',
          );
          return outcome.ok ? { ok: true } : { ok: false, holder: `a connection on hub ${outcome.holderHub}` };
        } catch (err) {
          // NATS unreachable: this hub's own rule still holds; refusing every agent would take the fleet down.
          this.deps.log.warn({ err, agentId }, 'presence claim failed (NATS unreachable?): identity checked on this hub only');
          return { ok: true };
        }
      },
      release: (agentId) => void this.presence.release(agentId),
    };
  }

  /** Revocation lists written on any hub reach the agents of every hub. */
  revocations(source: RevocationSource): RevocationSource {
    this.revocationSource = source;
    this.stops.push(
      source.onChange((list) => {
        for (const listener of this.revocationListeners) listener(list);
        this.bus.broadcast('revocations', {});
      }),
    );
    return {
      current: () => source.current(),
      onChange: (listener) => {
        this.revocationListeners.add(listener);
        return () => this.revocationListeners.delete(listener);
      },
    };
  }

  /** The gateway the rest of the hub uses: whole fleet, cross-hub dispatch, commands that reach the holder. */
  wrap(gateway: AgentGateway, local: ProbeDispatcher = gateway.dispatcher): AgentGateway {
    this.gateway = gateway;
    const fleet = new ClusterFleet(gateway.fleet, this.deps.directory, this.presence, this.hubId, () => this.leaseChanges);
    // `local` is this hub's dispatcher behind its per-agent admission: callers of every hub share the agent's slots here.
    const dispatcher = new ClusterDispatcher(local, this.deps.directory, this.presence, this.bus, this.hubId);
    const calls = new RemoteCalls();
    this.bus.handle('probe', (body, from) => serveRemoteProbe(local, body, this.bus.maxPayload, calls, from));
    this.bus.handle('cancel', (body, from) => Promise.resolve({ cancelled: calls.cancel(from, body) }));
    this.bus.start();
    const wrapped: AgentGateway = {
      register: async (app) => {
        await gateway.register(app);
        // After the gateway's own preClose (the drain): identities, lease and the NATS connection go last.
        app.addHook('onClose', () => this.close());
      },
      dispatcher,
      fleet,
      disconnect: (agentId, reason) => {
        gateway.disconnect(agentId, reason);
        this.bus.broadcast('disconnect', { agentId, reason: reason.slice(0, 500) });
      },
      approvePack: (agentId, request) => this.relayPackDecision(gateway, 'approve', agentId, request),
      rejectPack: (agentId, request) => this.relayPackDecision(gateway, 'reject', agentId, request),
      holderAlive: (agentId, timeoutMs) => gateway.holderAlive(agentId, timeoutMs),
      heldAgents: () => gateway.heldAgents(),
      admission: () => gateway.admission(),
      close: () => this.close(),
    };
    return wrapped;
  }

  /** Probe-like relay of an admin's pack decision to the hub holding the agent's socket. */
  private async relayPackDecision(
    gateway: AgentGateway,
    kind: 'approve' | 'reject',
    agentId: string,
    request: Parameters<AgentGateway['approvePack']>[1],
  ): Promise<{ ok: boolean; error?: { code: string; message: string } }> {
    const holder = this.presence.holderOf(agentId);
    if (!holder || holder === this.hubId)
      return kind === 'approve' ? gateway.approvePack(agentId, request) : gateway.rejectPack(agentId, request);
    const outcome = await this.bus.request(holder, kind, { agentId, request }, 16_000);
    if (outcome.kind === 'ok') {
      const body = outcome.body as { ok?: unknown; error?: { code: string; message: string } };
      return { ok: body.ok === true, ...(body.error ? { error: body.error } : {}) };
    }
    if (outcome.kind === 'no-responders')
      return { ok: false, error: { code: 'SONDE_ERR_AGENT_OFFLINE', message: `hub ${holder} holding the agent is gone` } };
    if (outcome.kind === 'timeout')
      return { ok: false, error: { code: 'SONDE_ERR_TIMEOUT', message: `hub ${holder} holding the agent did not answer in time` } };
    return { ok: false, error: { code: 'SONDE_ERR_CLUSTER', message: outcome.message } };
  }

  /** Drains this hub's agents (gateway), gives up its identities and lease, leaves NATS. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.gateway?.close();
    this.flushAnnouncements();
    for (const stop of this.stops) stop();
    clearTimeout(this.announceTimer);
    // Bounded: with NATS unreachable a hub must still shut down (its lease then simply runs out).
    await withTimeout(
      Promise.all(this.presence.owned().map((agentId) => this.presence.release(agentId))),
      SHUTDOWN_NATS_MS,
      'presence release',
    ).catch((err: unknown) => this.deps.log.warn({ err }, 'identities not released (NATS unreachable?)'));
    this.presence.stop();
    await withTimeout(this.leases.stop(), SHUTDOWN_NATS_MS, 'lease delete').catch(() => undefined);
    this.bus.stop();
    await withTimeout(this.nc.drain(), SHUTDOWN_NATS_MS, 'NATS drain').catch(() => this.nc.close().catch(() => undefined));
  }

  /** Follows the NATS connection: claims skip NATS while it is down; once it is back, presence is asserted again. */
  private async followConnection(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (this.closed) return;
      if (status.type === 'disconnect') {
        if (!this.natsDown) this.deps.log.warn({ server: status.server }, 'lost the NATS connection: serving this hub’s own agents only');
        this.natsDown = true;
      } else if (status.type === 'reconnect') {
        this.natsDown = false;
        this.deps.log.info({ server: status.server }, 'NATS connection back: refreshing the lease and this hub’s presence');
        void this.reassert().catch((err: unknown) => this.deps.log.warn({ err }, 'presence re-check after reconnecting failed'));
      }
    }
  }

  /**
   * After a NATS outage: this hub's lease is written again at once, and every agent whose socket it holds is claimed
   * again, so agents that registered meanwhile (checked on this hub only) and entries the server lost become visible
   * to the other hubs without any agent reconnecting. A claim another live hub won meanwhile (the same identity
   * connected there during the outage, its socket answering) is logged: routing follows that hub's entry.
   */
  async reassert(): Promise<{ claimed: number; lost: string[] }> {
    // A NATS server that came back without its store has no buckets: made again (a no-op when they are there), and
    // followed again from what they hold now.
    await openBuckets(this.nc, clusterNames(this.deps.config.prefix), this.deps.config.leaseMs ?? DEFAULT_LEASE_MS);
    await this.leases.rewatch();
    await this.presence.rewatch();
    await this.leases.refreshNow();
    const held = this.gateway?.heldAgents() ?? [];
    const lost: string[] = [];
    let claimed = 0;
    for (const agentId of held) {
      if (this.natsDown || this.closed) break;
      const outcome = await this.presence.claim(agentId, (hubId, id) => this.askHolder(hubId, id));
      if (outcome.ok) claimed++;
      else {
        lost.push(agentId);
        this.deps.log.warn({ agentId, holder: outcome.holderHub }, 'after the NATS outage another hub holds this identity too');
      }
    }
    return { claimed, lost };
  }

  /** Asks the hub holding an agent whether its socket still answers; a hub that does not answer is gone. */
  private async askHolder(hubId: string, agentId: string): Promise<'alive' | 'gone'> {
    const timeoutMs = 2_000;
    const outcome = await this.bus.request(hubId, 'holder-alive', { agentId, timeoutMs }, timeoutMs + 1_000);
    if (outcome.kind === 'ok') return (outcome.body as { alive?: unknown }).alive === true ? 'alive' : 'gone';
    // A refused or unreadable answer is not proof the holder is dead: keep the identity where it is.
    return outcome.kind === 'refused' ? 'alive' : 'gone';
  }

  private listen(): void {
    const { directory, store, log } = this.deps;
    this.bus.onGone = (hubId) => this.leases.markGone(hubId);
    this.bus.handle('holder-alive', async (body) => {
      const parsed = HolderAliveSchema.safeParse(body);
      if (!parsed.success || !this.gateway) return { alive: false };
      return { alive: await this.gateway.holderAlive(parsed.data.agentId, parsed.data.timeoutMs) };
    });
    this.bus.handle('approve', async (body) => {
      const parsed = ApproveSchema.safeParse(body);
      if (!parsed.success || !this.gateway)
        return { ok: false, error: { code: 'SONDE_ERR_INVALID_PARAMS', message: 'malformed approval' } };
      return this.gateway.approvePack(parsed.data.agentId, parsed.data.request);
    });
    this.bus.handle('reject', async (body) => {
      const parsed = ApproveSchema.safeParse(body);
      if (!parsed.success || !this.gateway)
        return { ok: false, error: { code: 'SONDE_ERR_INVALID_PARAMS', message: 'malformed rejection' } };
      return this.gateway.rejectPack(parsed.data.agentId, parsed.data.request);
    });
    this.bus.on('agents', (body) => {
      const parsed = AgentsEventSchema.safeParse(body);
      if (parsed.success) void directory.refresh(parsed.data.ids).catch((err: unknown) => log.warn({ err }, 'fleet refresh failed'));
    });
    this.bus.on('disconnect', (body) => {
      const parsed = DisconnectSchema.safeParse(body);
      if (parsed.success) this.gateway?.disconnect(parsed.data.agentId, parsed.data.reason);
    });
    this.bus.on('revocations', () => {
      const source = this.revocationSource;
      if (!source) return;
      void source.current().then(
        (list) => {
          if (list) for (const listener of this.revocationListeners) listener(list);
        },
        (err: unknown) => log.warn({ err }, 'could not read the revocation list another hub wrote'),
      );
    });
    // This hub's record writes (packs, degraded reasons, removal, new agents) are announced so every
    // hub's directory follows without polling; last-seen-only changes are not worth a message. On PostgreSQL
    // every hub's store reports every hub's writes already (NOTIFY): an announcement would only make each
    // hub read each change again, and announce what it learnt, so one registration cost a dozen reads.
    if (!store.agents.feedCoversOtherWriters)
      this.stops.push(
        store.agents.watch((change) => {
          if (change.kind !== 'put') return;
          const before = this.known.get(change.record.id);
          this.known.set(change.record.id, change.record);
          if (before && sameButLastSeen(before, change.record)) return;
          this.announce.add(change.record.id);
          this.announceTimer ??= setTimeout(() => this.flushAnnouncements(), ANNOUNCE_EVERY_MS);
        }),
      );
    this.stops.push(
      this.leases.onChange((live) => {
        this.leaseChanges++;
        // The live hub with the smallest id tidies the presence entries of dead hubs.
        if ([...live].sort()[0] === this.hubId)
          void this.presence.sweepDead().catch((err: unknown) => log.warn({ err }, 'presence sweep failed'));
      }),
    );
  }

  private flushAnnouncements(): void {
    this.announceTimer = undefined;
    if (this.announce.size === 0) return;
    const ids = [...this.announce];
    this.announce.clear();
    for (let i = 0; i < ids.length; i += 5_000) this.bus.broadcast('agents', { ids: ids.slice(i, i + 5_000) });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The three KV buckets (created if missing; the same handles when they exist). */
async function openBuckets(nc: NatsConnection, names: ReturnType<typeof clusterNames>, leaseMs: number) {
  const kvm = new Kvm(nc);
  // 2.9: no per-key TTL; the bucket's max age only sweeps away long-dead hubs' records (lease.ts).
  const hubsKv = await kvm.create(names.hubsBucket, { history: 1, ttl: leaseMs * 10 });
  const presenceKv = await kvm.create(names.presenceBucket, { history: 1 });
  const limitsKv = await new Kvm(jetstream(nc, { timeout: LIMITS_TIMEOUT_MS })).create(names.limitsBucket, {
    history: 1,
    ttl: LIMITS_MAX_AGE_MS,
  });
  return { hubsKv, presenceKv, limitsKv };
}
