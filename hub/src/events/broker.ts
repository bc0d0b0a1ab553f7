import { randomBytes } from 'node:crypto';
import type { AgentView, AuditRecord, Fleet } from '../services.js';
import type { AuditStore } from '../store/types.js';

/**
 * The hub's live event stream (`GET /api/v1/events`, Server-Sent Events):
 * a snapshot of the fleet, then deltas, each with a sequence number so a
 * reconnecting client resumes where it stopped (or gets a fresh snapshot when
 * the hub no longer holds what it missed).
 *
 * One broker per hub process serves every open dashboard. It does not hook
 * into the gateway or the audit log: on a short tick it compares the fleet's
 * change counter (`Fleet.version()`, an integer) and, only when it moved,
 * diffs the agent views; once a second it reads the audit entries committed
 * since the last one it saw. Each change is serialised once into an SSE frame
 * that every subscriber whose scope admits it receives as the same string, so
 * 50 dashboards cost one diff and one `JSON.stringify` per change, not 50.
 * With nobody subscribed it stops ticking and forgets its state (a client
 * that comes back then gets a snapshot).
 */

/** What one subscriber may see: decided when the stream opens, like the REST reads it mirrors. */
export interface StreamScope {
  /** Every agent and the audit log (an admin): shares the cached snapshot. */
  all: boolean;
  /** Agents this subscriber may see, by name (ignored when `all`). */
  agent(name: string): boolean;
  /** Whether new audit entries are sent. */
  audit: boolean;
}

export interface Subscriber {
  scope: StreamScope;
  /** Sends an SSE chunk; the route drops a subscriber that stops reading. */
  write(chunk: string): void;
  /** Ends the response (hub shutting down, client too slow, credentials gone). */
  close(): void;
  /** Checks the credentials again (every heartbeat); resolves false when they no longer hold. */
  recheck?(): Promise<boolean>;
}

interface StreamEvent {
  seq: number;
  /** The agent it concerns (scoped subscribers), or null for an audit entry. */
  agent: string | null;
  audit: boolean;
  /** Hub-wide admin state (integration packs): only for subscribers that see everything. */
  admin?: boolean;
  frame: string;
}

/** An integration pack as REST lists it (`GET /api/v1/integrations/packs`); only its name is read here. */
export interface IntegrationPackLike {
  name: string;
}

export interface EventBrokerOptions {
  fleet: Fleet;
  audit: Pick<AuditStore, 'query' | 'last'>;
  /**
   * The hub's integration packs, as `GET /api/v1/integrations/packs` lists them. Read at the first subscriber and
   * again only after an `integration.*` audit entry (install, approve, remove, instances): every change to them is
   * audited, and the audit log is shared by every hub, so a change made on another hub shows too.
   */
  integrations?: () => Promise<IntegrationPackLike[]>;
  /** How often the fleet's change counter is compared (default 250 ms). */
  tickMs?: number;
  /** How often new audit entries are read (default 1000 ms). */
  auditMs?: number;
  /** Comment line to every subscriber, and a credential re-check (default 15 s). */
  heartbeatMs?: number;
  /** Events kept for resuming (default 2,000). */
  ringSize?: number;
  onError?: (error: unknown) => void;
}

export const EVENT_TYPES = ['snapshot', 'agent', 'agent-removed', 'audit', 'integration', 'integration-removed'] as const;
/** Reads of the integration packs after an `integration.*` entry: the audit entry is written before the pack is loaded. */
const INTEGRATION_RECHECKS = 3;
export type EventType = (typeof EVENT_TYPES)[number];

/** Event ids are `<epoch>.<seq>`: the epoch changes with every hub start and after an idle stop, so stale ids get a snapshot. */
export function parseEventId(id: string | undefined): { epoch: string; seq: number } | undefined {
  const match = id ? /^([A-Za-z0-9_-]{1,32})\.(\d{1,15})$/.exec(id) : null;
  return match ? { epoch: match[1], seq: Number(match[2]) } : undefined;
}

const frameOf = (id: string, type: EventType, data: string): string => `id: ${id}\nevent: ${type}\ndata: ${data}\n\n`;

export class EventBroker {
  private epoch = newEpoch();
  private seq = 0;
  private ring: StreamEvent[] = [];
  /** Agent id → its name, its view as JSON (sent) and the same without `lastSeenAt` (compared: heartbeats are not changes). */
  private views = new Map<string, { name: string; json: string; compare: string }>();
  private fleetVersion: number | undefined;
  private auditSeq = 0;
  private primed = false;
  private readonly subscribers = new Set<Subscriber>();
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private auditTimer: ReturnType<typeof setInterval> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private auditReading = false;
  /** Integration pack name → its view as JSON, as last sent. */
  private integrationViews = new Map<string, string>();
  private integrationRechecks = 0;
  private snapshotCache: { seq: number; frame: string } | undefined;
  private readonly opts: Required<Omit<EventBrokerOptions, 'onError' | 'integrations'>> &
    Pick<EventBrokerOptions, 'onError' | 'integrations'>;

  constructor(options: EventBrokerOptions) {
    this.opts = { tickMs: 250, auditMs: 1000, heartbeatMs: 15_000, ringSize: 2000, ...options };
  }

  get size(): number {
    return this.subscribers.size;
  }

  /** Adds a subscriber: sends a snapshot, or only what it missed when `lastEventId` is still held. */
  async subscribe(subscriber: Subscriber, lastEventId?: string): Promise<() => void> {
    if (!this.primed) await this.prime();
    this.subscribers.add(subscriber);
    this.start();
    const last = parseEventId(lastEventId);
    const missed = last ? this.since(last) : undefined;
    if (missed) {
      for (const event of missed) if (admits(subscriber.scope, event)) subscriber.write(event.frame);
    } else subscriber.write(this.snapshot(subscriber.scope));
    return () => this.unsubscribe(subscriber);
  }

  /** Ends every stream (hub closing). */
  close(): void {
    for (const subscriber of [...this.subscribers]) subscriber.close();
    this.subscribers.clear();
    this.stop();
  }

  /** Compares the fleet now (tests and the tick). */
  checkFleet(): void {
    const version = this.opts.fleet.version?.();
    if (version !== undefined && version === this.fleetVersion) return;
    this.fleetVersion = version;
    const seen = new Set<string>();
    for (const view of this.opts.fleet.list()) {
      seen.add(view.id);
      const compare = comparable(view);
      const held = this.views.get(view.id);
      if (held?.compare === compare) continue;
      const json = JSON.stringify(view);
      this.views.set(view.id, { name: view.name, json, compare });
      this.publish('agent', view.name, false, `{"agent":${json}}`);
    }
    for (const [id, held] of this.views) {
      if (seen.has(id)) continue;
      this.views.delete(id);
      this.publish('agent-removed', held.name, false, JSON.stringify({ id, name: held.name }));
    }
  }

  /** Reads the audit entries committed since the last one seen (tests and the timer). */
  async checkAudit(): Promise<void> {
    if (this.auditReading) return;
    this.auditReading = true;
    try {
      for (;;) {
        const entries = await this.opts.audit.query({ afterSeq: this.auditSeq, order: 'asc', limit: 200 });
        for (const entry of entries) {
          this.auditSeq = entry.seq;
          if (entry.action.startsWith('integration.')) this.integrationRechecks = INTEGRATION_RECHECKS;
          this.publish('audit', null, true, `{"entry":${JSON.stringify(entry satisfies AuditRecord)}}`);
        }
        if (entries.length < 200) break;
      }
      if (this.integrationRechecks > 0) {
        this.integrationRechecks -= 1;
        await this.checkIntegrations();
      }
    } finally {
      this.auditReading = false;
    }
  }

  /** Compares the integration packs with what was last sent; one event per changed or removed pack. */
  async checkIntegrations(): Promise<void> {
    if (!this.opts.integrations) return;
    const packs = await this.opts.integrations();
    const seen = new Set<string>();
    for (const pack of packs) {
      seen.add(pack.name);
      const json = JSON.stringify(pack);
      if (this.integrationViews.get(pack.name) === json) continue;
      this.integrationViews.set(pack.name, json);
      this.publish('integration', null, false, `{"pack":${json}}`, true);
    }
    for (const name of [...this.integrationViews.keys()]) {
      if (seen.has(name)) continue;
      this.integrationViews.delete(name);
      this.publish('integration-removed', null, false, JSON.stringify({ name }), true);
    }
  }

  private async prime(): Promise<void> {
    this.auditSeq = (await this.opts.audit.last())?.seq ?? 0;
    this.fleetVersion = this.opts.fleet.version?.();
    this.views.clear();
    for (const view of this.opts.fleet.list()) {
      this.views.set(view.id, { name: view.name, json: JSON.stringify(view), compare: comparable(view) });
    }
    this.integrationViews.clear();
    for (const pack of (await this.opts.integrations?.()) ?? []) this.integrationViews.set(pack.name, JSON.stringify(pack));
    this.primed = true;
  }

  private publish(type: EventType, agent: string | null, audit: boolean, data: string, admin = false): void {
    this.seq += 1;
    const event = { seq: this.seq, agent, audit, admin, frame: frameOf(`${this.epoch}.${this.seq}`, type, data) };
    this.ring.push(event);
    if (this.ring.length > this.opts.ringSize) this.ring.splice(0, this.ring.length - this.opts.ringSize);
    for (const subscriber of this.subscribers) if (admits(subscriber.scope, event)) subscriber.write(event.frame);
  }

  /** The events after `last`, or undefined when they are not all held (another epoch, or fallen out of the ring). */
  private since(last: { epoch: string; seq: number }): StreamEvent[] | undefined {
    if (last.epoch !== this.epoch || last.seq > this.seq) return undefined;
    if (last.seq === this.seq) return [];
    const first = this.ring[0];
    if (!first || first.seq > last.seq + 1) return undefined;
    return this.ring.filter((event) => event.seq > last.seq);
  }

  private snapshot(scope: StreamScope): string {
    if (scope.all && this.snapshotCache?.seq === this.seq) return this.snapshotCache.frame;
    const agents: string[] = [];
    for (const held of this.views.values()) if (scope.all || scope.agent(held.name)) agents.push(held.json);
    // Integration packs are hub-wide admin state: only a subscriber that sees everything gets them (else absent).
    const integrations = scope.all && this.opts.integrations ? `,"integrations":[${[...this.integrationViews.values()].join(',')}]` : '';
    const frame = frameOf(
      `${this.epoch}.${this.seq}`,
      'snapshot',
      `{"agents":[${agents.join(',')}],"auditSeq":${scope.audit ? this.auditSeq : null}${integrations}}`,
    );
    if (scope.all) this.snapshotCache = { seq: this.seq, frame };
    return frame;
  }

  private unsubscribe(subscriber: Subscriber): void {
    this.subscribers.delete(subscriber);
    if (this.subscribers.size === 0) this.stop();
  }

  private start(): void {
    if (this.tickTimer) return;
    const guard = (fn: () => unknown) => () => {
      try {
        const result = fn();
        if (result instanceof Promise) result.catch((error: unknown) => this.opts.onError?.(error));
      } catch (error) {
        this.opts.onError?.(error);
      }
    };
    this.tickTimer = setInterval(
      guard(() => this.checkFleet()),
      this.opts.tickMs,
    );
    this.auditTimer = setInterval(
      guard(() => this.checkAudit()),
      this.opts.auditMs,
    );
    this.heartbeatTimer = setInterval(
      guard(() => this.heartbeat()),
      this.opts.heartbeatMs,
    );
    for (const timer of [this.tickTimer, this.auditTimer, this.heartbeatTimer]) timer.unref();
  }

  /** Nobody listens: stop reading and forget, so an idle hub does no work; ids from before get a snapshot. */
  private stop(): void {
    clearInterval(this.tickTimer);
    clearInterval(this.auditTimer);
    clearInterval(this.heartbeatTimer);
    this.tickTimer = this.auditTimer = this.heartbeatTimer = undefined;
    this.ring = [];
    this.views.clear();
    this.integrationViews.clear();
    this.integrationRechecks = 0;
    this.snapshotCache = undefined;
    this.primed = false;
    this.epoch = newEpoch();
    this.seq = 0;
  }

  private async heartbeat(): Promise<void> {
    await Promise.all(
      [...this.subscribers].map(async (subscriber) => {
        if (subscriber.recheck && !(await subscriber.recheck())) {
          subscriber.close();
          this.unsubscribe(subscriber);
          return;
        }
        subscriber.write(': keep-alive\n\n');
      }),
    );
  }
}

function admits(scope: StreamScope, event: StreamEvent): boolean {
  if (event.admin) return scope.all;
  if (event.audit) return scope.audit;
  return scope.all || (event.agent !== null && scope.agent(event.agent));
}

/** The view without its last-seen time, which moves with every heartbeat of a connected agent. */
function comparable(view: AgentView): string {
  const { lastSeenAt: _ignored, ...rest } = view;
  return JSON.stringify(rest);
}

const newEpoch = (): string => randomBytes(6).toString('base64url');
