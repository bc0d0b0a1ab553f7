import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { FastifyBaseLogger } from 'fastify';
import type { AuditLog } from '../services.js';
import { ClusterAuthError, NonceCache, open, seal, type ClusterMessage } from './envelope.js';
import type { ClusterNames } from './names.js';

/**
 * Sealed hub-to-hub messaging over NATS: request/reply to one hub
 * (`<prefix>.v1.hub.<hubId>.rpc`) and broadcasts to all (`<prefix>.v1.cluster.events`).
 * Everything that arrives is opened (`envelope.ts`) before any handler sees it;
 * a forged, stale, misaddressed or replayed message is refused, logged and
 * audited (`cluster.message.refused`, at most 60 entries a minute, the rest
 * logged only, so a flood cannot fill the audit log).
 */

export type RpcOutcome =
  | { kind: 'ok'; body: unknown }
  /** Nobody listens on the hub's subject: that hub is gone. */
  | { kind: 'no-responders' }
  | { kind: 'timeout' }
  /** The other hub refused our message (clock skew, a different SONDE_SECRET) or answered something unreadable. */
  | { kind: 'refused'; message: string };

export type RpcHandler = (body: unknown, from: string) => Promise<unknown>;
export type EventHandler = (body: unknown, from: string) => void;

const AUDIT_BUDGET = 60;
const AUDIT_WINDOW_MS = 60_000;
/** Room NATS needs for the subject, reply inbox and headers beside the payload. */
export const PAYLOAD_MARGIN_BYTES = 4096;

export interface BusOptions {
  nc: NatsConnection;
  names: ClusterNames;
  hubId: string;
  key: Buffer;
  audit: AuditLog;
  log: FastifyBaseLogger;
  now?: () => number;
}

export class ClusterBus {
  private readonly nonces: NonceCache;
  private readonly rpcHandlers = new Map<string, RpcHandler>();
  private readonly eventHandlers = new Map<string, EventHandler>();
  private readonly subscriptions: Subscription[] = [];
  private auditWindowStart = 0;
  private audited = 0;
  /** Called when a hub's subject has no responders (the hub is gone). */
  onGone: ((hubId: string) => void) | undefined;
  /** Refusals since start (tests and logs). */
  refused = 0;

  constructor(private readonly options: BusOptions) {
    this.nonces = new NonceCache(options.now);
  }

  /** The largest payload NATS accepts from us, minus room for the envelope's own fields. */
  get maxPayload(): number {
    return this.options.nc.info?.max_payload ?? 1024 * 1024;
  }

  handle(kind: string, handler: RpcHandler): void {
    this.rpcHandlers.set(kind, handler);
  }

  on(kind: string, handler: EventHandler): void {
    this.eventHandlers.set(kind, handler);
  }

  /** Starts listening on this hub's RPC subject and the broadcast subject. */
  start(): void {
    const { nc, names, hubId } = this.options;
    const rpc = nc.subscribe(names.rpc(hubId), {
      callback: (err, msg) => {
        if (err) return this.options.log.warn({ err }, 'hub RPC subscription error');
        void this.onRequest(msg.data, msg.subject, (data) => msg.respond(data));
      },
    });
    const events = nc.subscribe(names.events, {
      callback: (err, msg) => {
        if (err) return this.options.log.warn({ err }, 'cluster event subscription error');
        this.onEvent(msg.data, msg.subject);
      },
    });
    this.subscriptions.push(rpc, events);
  }

  stop(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions.length = 0;
  }

  /** Sends one sealed request to `hubId` and verifies the sealed reply names it. */
  async request(hubId: string, kind: string, body: unknown, timeoutMs: number): Promise<RpcOutcome> {
    const { nc, names, key, hubId: self } = this.options;
    const sealed = seal(kind, hubId, body, { key, from: self, ...(this.options.now ? { now: this.options.now } : {}) });
    if (sealed.data.byteLength > this.maxPayload - PAYLOAD_MARGIN_BYTES)
      return { kind: 'refused', message: `request of ${sealed.data.byteLength} bytes exceeds the NATS payload limit` };
    let reply;
    try {
      reply = await nc.request(names.rpc(hubId), sealed.data, { timeout: Math.max(1, Math.round(timeoutMs)) });
    } catch (err) {
      if (isNoResponders(err)) {
        this.onGone?.(hubId);
        return { kind: 'no-responders' };
      }
      if (isTimeout(err)) return { kind: 'timeout' };
      return { kind: 'refused', message: err instanceof Error ? err.message : String(err) };
    }
    if (reply.data[0] === 0x21 /* ! */) return { kind: 'refused', message: refusalText(reply.data) };
    try {
      const message = open(reply.data, { key, self, nonces: this.nonces, ...(this.options.now ? { now: this.options.now } : {}) });
      if (message.k !== 'reply' || message.re !== sealed.nonce || message.from !== hubId)
        throw new ClusterAuthError('reply does not answer this request', message);
      return { kind: 'ok', body: message.b };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.refuse(reason, { from: hubId, k: 'reply' }, names.rpc(hubId));
      return { kind: 'refused', message: `reply from hub ${hubId} refused: ${reason}` };
    }
  }

  /** Publishes one sealed broadcast (fire and forget: receivers must tolerate missing one). */
  broadcast(kind: string, body: unknown): void {
    const { nc, names, key, hubId } = this.options;
    try {
      nc.publish(names.events, seal(kind, '*', body, { key, from: hubId, ...(this.options.now ? { now: this.options.now } : {}) }).data);
    } catch (err) {
      this.options.log.warn({ err, kind }, 'could not publish a cluster event');
    }
  }

  private async onRequest(data: Uint8Array, subject: string, respond: (data: Uint8Array) => boolean): Promise<void> {
    const { key, hubId } = this.options;
    let message: ClusterMessage;
    try {
      message = open(data, { key, self: hubId, nonces: this.nonces, ...(this.options.now ? { now: this.options.now } : {}) });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.refuse(reason, err instanceof ClusterAuthError ? err.claimed : undefined, subject);
      respond(Buffer.from(`!${JSON.stringify({ code: 'SONDE_ERR_CLUSTER_AUTH', message: `refused: ${reason}` })}`));
      return;
    }
    const handler = this.rpcHandlers.get(message.k);
    let body: unknown;
    try {
      if (!handler) throw new Error(`no handler for ${message.k}`);
      body = await handler(message.b, message.from);
    } catch (err) {
      this.options.log.error({ err, kind: message.k, from: message.from }, 'hub RPC handler failed');
      body = { error: { code: 'SONDE_ERR_INTERNAL', message: `hub ${hubId} could not handle ${message.k}` } };
    }
    let reply = seal('reply', message.from, body, { key, from: hubId, re: message.n });
    if (reply.data.byteLength > this.maxPayload - PAYLOAD_MARGIN_BYTES) {
      this.options.log.error({ kind: message.k, bytes: reply.data.byteLength }, 'hub RPC reply exceeds the NATS payload limit');
      reply = seal(
        'reply',
        message.from,
        { error: { code: 'SONDE_ERR_RESULT_TOO_LARGE', message: `the reply of hub ${hubId} exceeds the NATS payload limit` } },
        { key, from: hubId, re: message.n },
      );
    }
    respond(reply.data);
  }

  private onEvent(data: Uint8Array, subject: string): void {
    const { key, hubId } = this.options;
    let message: ClusterMessage;
    try {
      message = open(data, {
        key,
        self: hubId,
        nonces: this.nonces,
        broadcast: true,
        ...(this.options.now ? { now: this.options.now } : {}),
      });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.refuse(reason, err instanceof ClusterAuthError ? err.claimed : undefined, subject);
      return;
    }
    if (message.from === hubId) return;
    const handler = this.eventHandlers.get(message.k);
    if (!handler) return;
    try {
      handler(message.b, message.from);
    } catch (err) {
      this.options.log.error({ err, kind: message.k, from: message.from }, 'cluster event handler failed');
    }
  }

  /** A refused message: always logged, audited within the budget. */
  private refuse(reason: string, claimed: { from?: unknown; k?: unknown } | undefined, subject: string): void {
    this.refused++;
    const from = typeof claimed?.from === 'string' ? claimed.from.slice(0, 64) : 'unknown';
    const kind = typeof claimed?.k === 'string' ? claimed.k.slice(0, 32) : 'unknown';
    this.options.log.warn({ subject, claimedFrom: from, kind, reason }, 'hub-to-hub message refused');
    const now = (this.options.now ?? Date.now)();
    if (now - this.auditWindowStart > AUDIT_WINDOW_MS) {
      this.auditWindowStart = now;
      this.audited = 0;
    }
    if (this.audited >= AUDIT_BUDGET) return;
    this.audited++;
    this.options.audit
      .append({
        action: 'cluster.message.refused',
        actor: { kind: 'system', id: this.options.hubId, name: `hub ${this.options.hubId}` },
        agents: [],
        status: 'denied',
        detail: `${kind} message on ${subject} claiming to be from hub ${from} refused: ${reason}`.slice(0, 2000),
      })
      .catch((err: unknown) => this.options.log.error({ err }, 'could not audit a refused hub-to-hub message'));
  }
}

function isNoResponders(err: unknown): boolean {
  const e = err as { isNoResponders?: () => boolean; name?: string; cause?: { name?: string } } | null;
  return Boolean(e?.isNoResponders?.() || e?.name === 'NoRespondersError' || e?.cause?.name === 'NoRespondersError');
}

function isTimeout(err: unknown): boolean {
  const e = err as { name?: string; cause?: { name?: string }; isTimeout?: () => boolean } | null;
  return Boolean(e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError' || e?.isTimeout?.());
}

function refusalText(data: Uint8Array): string {
  try {
    const parsed = JSON.parse(Buffer.from(data.subarray(1)).toString('utf8')) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message.slice(0, 500) : 'refused';
  } catch {
    return 'refused';
  }
}
