import { createPublicKey, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { isSondeError } from '@sonde/pack-sdk';
import {
  decodeMessage,
  encodeMessage,
  newConnectionNonce,
  ReplayGuard,
  wireAlgorithmOf,
  type Attestation,
  type DecodedMessage,
  type MessagePayload,
  type MessageType,
  type PackStatus,
  type Register,
} from '@sonde/pack-sdk/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import type { AuditEntryInput, AuditLog } from '../services.js';
import type { HubStore } from '../store/types.js';
import { packReportProblem } from '../fleet/report-bounds.js';
import { shareManifests } from '../store/manifests.js';
import { CloseCodes } from './codes.js';
import { CHANGED_AFTER_REGISTRATION_REASON, gatePacks, packKey } from './pack-gate.js';
import { holdPacks } from './hold-packs.js';
import type { AuthenticatedAgent } from './types.js';

/**
 * Why a probe request's fields would not pass ProbeRequestSchema, or undefined when they would. `request()` checks
 * this instead of a zod parse before signing (~1 % of the hub's CPU per call): the id is a fresh UUID and the
 * timeout is clamped to [100, 44,000] ms there, so the probe name and the params are what remain to check (the
 * agent parses every frame it receives, so a request that slipped past would be refused there, not run).
 */
export function probeRequestProblem(probe: unknown, params: unknown, timeoutMs: number): string | undefined {
  if (typeof probe !== 'string' || probe.length > 200) return 'the probe name must be a string of at most 200 characters';
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return 'params must be an object';
  const prototype: unknown = Object.getPrototypeOf(params);
  if (prototype !== Object.prototype && prototype !== null) return 'params must be a plain object';
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 120_000) return 'the timeout must be 100 to 120,000 ms';
  return undefined;
}

/** What a registered connection told the hub about itself. */
export interface LiveSession {
  agentVersion: string;
  attestation: Attestation;
  packs: PackStatus[];
  /** `name@version` of the packs that may serve: the accepted attestation's, plus versions approved through the hub since (pack-gate.ts). */
  servable: Set<string>;
  isolation: string | null;
  maxConcurrency: number;
  registeredAt: number;
  running: number;
  rssBytes: number;
  uptimeS: number;
}

/** Outcome of one probe request on this connection, before the dispatcher names agent and probe. */
export interface AgentAnswer {
  status: 'ok' | 'error' | 'timeout' | 'denied' | 'offline';
  result?: unknown;
  error?: { code: string; message: string };
  durationMs: number;
  truncated: boolean;
}

export interface ConnectionContext {
  store: HubStore;
  audit: AuditLog;
  log: FastifyBaseLogger;
  /** The CA key (agents on RSA-SHA256) and the hub's Ed25519 wire key (agents on Ed25519). */
  signingKey: KeyObject;
  wireKey: KeyObject;
  heartbeatMs: number;
  /** Named in `hub.hello`. */
  hubVersion: string;
  /** Runs the registration rules; called once, for the first valid frame. */
  register(connection: AgentConnection, payload: Register): Promise<void>;
  /** The socket is gone: release the identity. */
  closed(connection: AgentConnection): void;
  /** Records the agent's last-seen time (written in batches, see `LastSeenWriter`). */
  seen(agentId: string, at: string): void;
}

/** Security events audited per connection and minute; more are logged only. */
const SECURITY_AUDIT_BUDGET = 60;
const SECURITY_AUDIT_WINDOW_MS = 60_000;
/** Invalid frames tolerated on a registered connection before it is closed. */
const MAX_FRAME_FAILURES = 5;
/** Hub-side wait on top of the timeout the agent is given, so the agent's own timeout answer normally arrives first. */
export const DISPATCH_MARGIN_MS = 1_000;
/** Every dispatch answers within this (the MCP layer's 45 s promise). */
export const MAX_DISPATCH_WAIT_MS = 45_000;
export const DEFAULT_PROBE_TIMEOUT_MS = 30_000;

interface Pending {
  probe: string;
  finish(answer: Omit<AgentAnswer, 'durationMs'>): void;
}

/**
 * One authenticated agent socket. Identity comes from the pre-upgrade
 * authentication and never from a message: every frame is decoded with the
 * agent's stored public key, a replay guard of its own and `expectAgentId`
 * bound to that identity (`onFrame`).
 */
export class AgentConnection {
  readonly agentId: string;
  readonly name: string;
  readonly connectedAt = Date.now();
  state: 'awaiting-register' | 'registering' | 'registered' | 'closed' = 'awaiting-register';
  session: LiveSession | null = null;
  /** This connection's challenge, sent in `hub.hello`: the signed `agent.register` must carry it back (registration.ts). */
  readonly nonce = newConnectionNonce();
  /** Last valid frame or pong (liveness). */
  lastActivity = Date.now();
  lastPingAt = 0;
  private readonly verifyKey: KeyObject;
  /** Chosen by the key the agent enrolled with, never by a frame: an Ed25519 agent gets Ed25519 frames only. */
  private readonly signingKey: KeyObject;
  private readonly replay = new ReplayGuard();
  /**
   * Probe requests, pack decisions and liveness checks waiting for an answer. Each map or set exists only while it holds
   * something: most of a fleet's sockets wait for nothing most of the time, and an empty Map or Set with its hash table
   * is ~0.2 KB (0.6 KB a socket for the three, 6 MB over 10,000 agents).
   */
  private pending: Map<string, Pending> | undefined;
  private approvals: Map<string, (result: MessagePayload<'agent.packs.approve.result'>) => void> | undefined;
  private eventsWindowStart = 0;
  private eventsAudited = 0;
  private pongWaiters: Set<(alive: boolean) => void> | undefined;
  /** Made on first use: most connections never log, and a child logger per socket is ~0.3 KB held for its life. */
  private logger: FastifyBaseLogger | undefined;
  private queue: Promise<void> = Promise.resolve();
  private failures = 0;
  private securityWindowStart = 0;
  private securityAudited = 0;
  private securityDropped = 0;
  private lastStoreCheck = 0;
  /** The stored certificate PEM last found to match the one this socket authenticated with. */
  private checkedCertPem: string | null = null;

  constructor(
    private readonly ws: WebSocket,
    readonly identity: AuthenticatedAgent,
    publicKeyPem: string,
    private readonly ctx: ConnectionContext,
  ) {
    this.agentId = identity.agentId;
    this.name = identity.name;
    this.verifyKey = createPublicKey(publicKeyPem);
    this.signingKey = wireAlgorithmOf(this.verifyKey) === 'ed25519' ? ctx.wireKey : ctx.signingKey;
  }

  private get log(): FastifyBaseLogger {
    return (this.logger ??= this.ctx.log.child({ agent: this.name, agentId: this.agentId }));
  }

  start(): void {
    this.ws.on('message', (data, isBinary) => {
      // Frames are handled one at a time, in order: registration may wait on
      // a liveness check and nothing after it may overtake it.
      this.queue = this.queue
        .then(() => this.onFrame(data, isBinary))
        .catch((err: unknown) => {
          this.log.error({ err }, 'agent frame handler failed');
          // A registration that failed half-way must not leave a socket the fleet cannot see.
          if (this.state !== 'registered')
            this.refuse('SONDE_ERR_INTERNAL', 'the hub could not complete registration', CloseCodes.internalError);
        });
    });
    this.ws.on('pong', () => {
      this.lastActivity = Date.now();
      const waiters = this.pongWaiters;
      this.pongWaiters = undefined;
      if (waiters) for (const waiter of waiters) waiter(true);
    });
    this.ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')
        this.log.warn({ remote: this.identity.remoteAddress }, 'agent frame exceeds 1 MiB: connection closed');
      else this.log.warn({ err: err.message }, 'agent socket error');
    });
    this.ws.on('close', (code, reason) => this.onClose(code, reason.toString('utf8')));
    // First frame on every connection: the nonce binds the agent's registration to this socket.
    try {
      this.send('hub.hello', { nonce: this.nonce, hubVersion: this.ctx.hubVersion.slice(0, 100) });
    } catch (err) {
      this.log.error({ err }, 'could not send hub.hello');
      this.close(CloseCodes.internalError, 'the hub could not open the session');
    }
  }

  get isOpen(): boolean {
    return this.state !== 'closed';
  }

  get pendingCount(): number {
    return this.pending?.size ?? 0;
  }

  /**
   * Sends one signed hub message bound to this agent. `validate: false` only for a payload already checked against
   * its schema another way (a probe request: probeRequestProblem).
   */
  send<T extends MessageType>(type: T, payload: MessagePayload<T>, done?: (err?: Error) => void, validate = true): void {
    const frame = encodeMessage(type, payload, { agentId: this.agentId, key: this.signingKey, validate });
    this.ws.send(frame, done);
  }

  /** Tells the agent why, then closes. `code` is a gateway code or a wire code from pack-sdk. */
  refuse(code: string, message: string, closeCode: number, refId?: string): void {
    if (this.state === 'closed') return;
    try {
      this.send('reject', { code, message: message.slice(0, 2000), ...(refId ? { refId } : {}) });
    } catch (err) {
      this.log.warn({ err }, 'could not encode reject');
    }
    this.close(closeCode, message);
  }

  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    // Close reasons are limited to 123 bytes by the WebSocket protocol.
    this.ws.close(
      code,
      Buffer.from(reason, 'utf8')
        .subarray(0, 123)
        .toString('utf8')
        .replace(/\uFFFD$/, ''),
    );
    this.markClosed(`closed by hub: ${reason}`);
    // A peer that never answers the close handshake must not hold the socket.
    setTimeout(() => this.ws.terminate(), 2_000).unref();
  }

  terminate(reason: string): void {
    this.ws.terminate();
    this.markClosed(reason);
  }

  /** Sends a ping and reports whether a pong (or any valid frame) comes back in time. */
  checkAlive(timeoutMs: number): Promise<boolean> {
    if (this.state === 'closed') return Promise.resolve(false);
    const since = Date.now();
    return new Promise((resolve) => {
      const waiter = (alive: boolean): void => {
        clearTimeout(timer);
        resolve(alive);
      };
      const timer = setTimeout(() => {
        this.pongWaiters?.delete(waiter);
        if (this.pongWaiters?.size === 0) this.pongWaiters = undefined;
        resolve(this.lastActivity > since);
      }, timeoutMs);
      (this.pongWaiters ??= new Set()).add(waiter);
      this.ping();
    });
  }

  ping(): void {
    this.lastPingAt = Date.now();
    try {
      this.ws.ping();
    } catch {
      // The socket is already closing; the close handler cleans up.
    }
  }

  /** Called by registration once the identity is claimed and checked. */
  markRegistered(session: LiveSession): void {
    this.session = session;
    this.state = 'registered';
  }

  /** Runs one probe on this agent and waits for its answer, a timeout, a drop or a cancel. */
  request(probe: string, params: Record<string, unknown>, timeoutMs: number | undefined, signal?: AbortSignal): Promise<AgentAnswer> {
    const started = performance.now();
    if (this.state !== 'registered') {
      return Promise.resolve({
        status: 'offline',
        error: { code: 'SONDE_ERR_AGENT_OFFLINE', message: `agent ${this.name} is not registered` },
        durationMs: 0,
        truncated: false,
      });
    }
    const agentTimeout = Math.min(
      Math.max(Math.round(timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS), 100),
      MAX_DISPATCH_WAIT_MS - DISPATCH_MARGIN_MS,
    );
    const requestId = randomUUID();
    return new Promise<AgentAnswer>((resolve) => {
      const onAbort = (): void =>
        finish({ status: 'error', error: { code: 'SONDE_ERR_CANCELLED', message: 'the request was cancelled' }, truncated: false });
      const finish = (answer: Omit<AgentAnswer, 'durationMs'>): void => {
        if (!this.pending?.delete(requestId)) return;
        if (this.pending.size === 0) this.pending = undefined;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve({ ...answer, durationMs: Math.round(performance.now() - started) });
      };
      const timer = setTimeout(
        () =>
          finish({
            status: 'timeout',
            error: {
              code: 'SONDE_ERR_TIMEOUT',
              message: `agent ${this.name} did not answer ${probe} within ${agentTimeout + DISPATCH_MARGIN_MS} ms`,
            },
            truncated: false,
          }),
        agentTimeout + DISPATCH_MARGIN_MS,
      );
      (this.pending ??= new Map()).set(requestId, { probe, finish });
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const problem = probeRequestProblem(probe, params, agentTimeout);
        if (problem) throw new Error(problem);
        this.send(
          'hub.probe.request',
          { requestId, probe, params, timeoutMs: agentTimeout },
          (err) => {
            if (err)
              finish({
                status: 'offline',
                error: { code: 'SONDE_ERR_AGENT_DISCONNECTED', message: `agent ${this.name}: ${err.message}` },
                truncated: false,
              });
          },
          false,
        );
      } catch (err) {
        const message = isSondeError(err) || err instanceof Error ? err.message : String(err);
        finish({ status: 'error', error: { code: 'SONDE_ERR_INVALID_PARAMS', message: `request not sent: ${message}` }, truncated: false });
      }
    });
  }

  /**
   * Relays an admin's approval to the agent, which applies it only if its own
   * verified candidate has this exact version and permissions digest.
   */
  approvePack(
    request: Omit<MessagePayload<'hub.packs.approve'>, 'requestId'>,
    timeoutMs = 15_000,
  ): Promise<MessagePayload<'agent.packs.approve.result'>> {
    return this.decidePack('hub.packs.approve', request, timeoutMs);
  }

  /**
   * Relays an admin's rejection of a pending pack version, pinned like an
   * approval; only to an agent that announced the `pack-reject` feature (an
   * older one would refuse the message type as a bad frame).
   */
  rejectPack(
    request: Omit<MessagePayload<'hub.packs.reject'>, 'requestId'>,
    timeoutMs = 15_000,
  ): Promise<MessagePayload<'agent.packs.reject.result'>> {
    if (!this.identity.features?.includes('pack-reject')) {
      return Promise.resolve({
        requestId: randomUUID(),
        ok: false,
        error: {
          code: 'SONDE_ERR_UNSUPPORTED',
          message: `agent ${this.name} runs a version that cannot reject a pack from the hub; upgrade it, or remove the pending version on the host (sonde packs remove)`,
        },
      });
    }
    return this.decidePack('hub.packs.reject', request, timeoutMs);
  }

  private decidePack(
    type: 'hub.packs.approve' | 'hub.packs.reject',
    request: Omit<MessagePayload<'hub.packs.approve'>, 'requestId'>,
    timeoutMs: number,
  ): Promise<MessagePayload<'agent.packs.approve.result'>> {
    const requestId = randomUUID();
    const fail = (code: string, message: string): MessagePayload<'agent.packs.approve.result'> => ({
      requestId,
      ok: false,
      error: { code, message },
    });
    if (this.state !== 'registered') return Promise.resolve(fail('SONDE_ERR_AGENT_OFFLINE', `agent ${this.name} is not connected`));
    return new Promise((resolve) => {
      const finish = (result: MessagePayload<'agent.packs.approve.result'>): void => {
        if (!this.approvals?.delete(requestId)) return;
        if (this.approvals.size === 0) this.approvals = undefined;
        clearTimeout(timer);
        resolve(result);
      };
      const timer = setTimeout(
        () => finish(fail('SONDE_ERR_TIMEOUT', `agent ${this.name} did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      (this.approvals ??= new Map()).set(requestId, finish);
      // An admin approved exactly this version through the hub: it may serve once the agent reports it active (the
      // agent reports its packs before it answers, so this is allowed from the moment the approval is sent).
      if (type === 'hub.packs.approve') this.session?.servable.add(packKey(request.pack, request.version));
      this.send(type, { requestId, ...request }, (err) => {
        if (err) finish(fail('SONDE_ERR_AGENT_DISCONNECTED', err.message));
      });
    });
  }

  /** Pack operations done on the agent's host, one audit entry each (bounded per minute like security events). */
  private onPackEvents(payload: MessagePayload<'agent.pack-events'>): void {
    const now = Date.now();
    if (now - this.eventsWindowStart > SECURITY_AUDIT_WINDOW_MS) {
      this.eventsWindowStart = now;
      this.eventsAudited = 0;
    }
    for (const event of payload.events) {
      if (this.eventsAudited >= SECURITY_AUDIT_BUDGET * 10) {
        this.log.warn({ pack: event.pack, action: event.action }, 'agent pack event logged but not audited (rate limit)');
        continue;
      }
      this.eventsAudited += 1;
      const version = event.version ? `@${event.version}` : '';
      this.audit({
        action: `agent.pack.${event.action}`.slice(0, 64),
        actor: { kind: 'agent', id: this.agentId, name: this.name },
        agents: [this.name],
        status: event.outcome === 'refused' ? 'denied' : 'ok',
        detail:
          `${event.pack}${version}: ${event.outcome}${event.from ? ` (from ${event.from})` : ''}${event.by ? ` by ${event.by}` : ''}${event.detail ? ` — ${event.detail}` : ''} [agent seq ${event.seq}, ${event.time}]`.slice(
            0,
            2000,
          ),
      });
    }
  }

  /** Audits without holding up the frame that caused it; a failed append is logged. */
  private audit(entry: AuditEntryInput): void {
    this.ctx.audit.append(entry).catch((err: unknown) => this.log.error({ err, action: entry.action }, 'could not write an audit entry'));
  }

  /**
   * Decodes and verifies one frame, then hands the message on. Not async: the frame's bytes (40-130 KB for an
   * `agent.register` carrying manifests) are garbage once decoded, instead of living in an async function's saved
   * registers until the registration's store writes and audit entries are done.
   */
  private onFrame(data: RawData, isBinary: boolean): Promise<void> | undefined {
    if (this.state === 'closed') return;
    // ws hands a Buffer (binaryType 'nodebuffer'): use it as it is (Buffer.from would copy it).
    const frame = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    let message: DecodedMessage;
    try {
      if (isBinary) throw Object.assign(new Error('binary frames are not part of the protocol'), { code: 'SONDE_ERR_BAD_FRAME' });
      message = decodeMessage(frame, { key: this.verifyKey, replay: this.replay, expectAgentId: this.agentId });
    } catch (err) {
      this.frameFailed(err, frame);
      return;
    }
    this.lastActivity = Date.now();
    return this.onMessage(message);
  }

  private async onMessage(message: DecodedMessage): Promise<void> {
    if (this.state === 'awaiting-register') {
      if (message.type !== 'agent.register') {
        this.refuse(
          'SONDE_ERR_NOT_REGISTERED',
          `first message must be agent.register, got ${message.type}`,
          CloseCodes.policy,
          message.envelope.id,
        );
        return;
      }
      this.state = 'registering';
      await this.ctx.register(this, message.payload);
      return;
    }
    switch (message.type) {
      case 'agent.heartbeat':
        await this.onHeartbeat(message.payload);
        return;
      case 'agent.probe.result': {
        const pending = this.pending?.get(message.payload.requestId);
        if (!pending) {
          this.log.debug({ requestId: message.payload.requestId }, 'probe result for no pending request (late or unknown)');
          return;
        }
        const { status, result, error, truncated } = message.payload;
        pending.finish({ status, result, ...(error ? { error } : {}), truncated });
        return;
      }
      case 'agent.packs': {
        const problem = packReportProblem(message.payload.packs);
        if (problem) {
          this.send('reject', { code: 'SONDE_ERR_BAD_FRAME', message: `pack report refused: ${problem}`, refId: message.envelope.id });
          return;
        }
        shareManifests(message.payload.packs);
        // A pack set changed after registration (a local `sonde packs approve`/`update`) keeps serving, since the agent
        // sends no fresh attestation with it; the change is recorded (degraded reason, audit) and the next connection's
        // attestation comparison holds it until an admin accepts. Remote approvals through the hub are not such a change.
        const changed = gatePacks(message.payload.packs, this.session?.servable ?? new Set()).held;
        if (this.session) this.session.packs = message.payload.packs;
        await this.ctx.store.agents.setPacks(this.agentId, message.payload.packs);
        if (changed.length > 0) {
          const record = await this.ctx.store.agents.getById(this.agentId);
          await holdPacks(
            this.agentId,
            changed,
            record?.degradedReasons ?? [],
            this.ctx,
            (entry) =>
              this.ctx.audit
                .append({ ...entry, actor: { kind: 'agent', id: this.agentId, name: this.name }, agents: [this.name] })
                .then(() => undefined),
            CHANGED_AFTER_REGISTRATION_REASON,
          );
        }
        return;
      }
      case 'agent.security':
        this.onSecurityEvent(message.payload);
        return;
      case 'agent.packs.approve.result':
      case 'agent.packs.reject.result':
        // One map for both: a request id names the one decision it answers.
        this.approvals?.get(message.payload.requestId)?.(message.payload);
        return;
      case 'agent.pack-events':
        this.onPackEvents(message.payload);
        return;
      case 'reject':
        this.log.warn(
          { code: message.payload.code, refId: message.payload.refId },
          `agent refused a hub message: ${message.payload.message}`,
        );
        return;
      case 'agent.register':
        this.send('reject', { code: 'SONDE_ERR_UNEXPECTED_MESSAGE', message: 'already registered', refId: message.envelope.id });
        return;
      default:
        this.log.warn({ type: message.type }, 'agent sent a hub-only message type');
        this.send('reject', {
          code: 'SONDE_ERR_UNEXPECTED_MESSAGE',
          message: `${message.type} is sent by the hub only`,
          refId: message.envelope.id,
        });
    }
  }

  private async onHeartbeat(payload: MessagePayload<'agent.heartbeat'>): Promise<void> {
    const now = Date.now();
    if (this.session) Object.assign(this.session, { running: payload.running, rssBytes: payload.rssBytes, uptimeS: payload.uptimeS });
    // The store is consulted at most twice per interval, however fast an agent sends heartbeats.
    if (now - this.lastStoreCheck < this.ctx.heartbeatMs / 2) return;
    this.lastStoreCheck = now;
    if (!(await this.credentialsStillValid())) {
      this.refuse('SONDE_ERR_AGENT_REMOVED', 'agent removed or credentials revoked', CloseCodes.removed);
      return;
    }
    this.ctx.seen(this.agentId, new Date(now).toISOString());
  }

  /**
   * Checks the credentials now rather than at the next heartbeat: the gateway calls it when the store reports a
   * write this process did not make (the CLI's `agents remove` or `keys revoke` on the same database).
   */
  async recheckCredentials(): Promise<void> {
    if (this.state !== 'registered') return;
    this.lastStoreCheck = Date.now();
    if (!(await this.credentialsStillValid()))
      this.refuse('SONDE_ERR_AGENT_REMOVED', 'agent removed or credentials revoked', CloseCodes.removed);
  }

  /** Removal, key revocation or certificate replacement while connected ends the session at the next heartbeat. */
  private async credentialsStillValid(): Promise<boolean> {
    // From the store, not the fleet directory: a change another process made is seen at this check, not a poll later.
    const record = await this.ctx.store.agents.getById(this.agentId);
    if (!record || record.removedAt) return false;
    if (this.identity.keyId) {
      const key = await this.ctx.store.apiKeys.getById(this.identity.keyId);
      if (!key || key.revokedAt) return false;
    }
    if (this.identity.certFingerprint) {
      if (!record.certPem) return false;
      // Parsing the certificate costs more than the rest of a heartbeat: it is parsed again only when the stored PEM
      // changes (re-enrolment replaces it, removal clears it), and the same text always has the same fingerprint.
      if (record.certPem !== this.checkedCertPem) {
        if (new X509Certificate(record.certPem).fingerprint256 !== this.identity.certFingerprint) return false;
        this.checkedCertPem = record.certPem;
      }
    }
    return true;
  }

  private onSecurityEvent(payload: MessagePayload<'agent.security'>): void {
    this.log.warn({ kind: payload.kind, pack: payload.pack, probe: payload.probe }, `agent security event: ${payload.detail}`);
    // A misbehaving agent must not be able to flood the audit log: beyond the budget, events are only logged.
    const now = Date.now();
    if (now - this.securityWindowStart > SECURITY_AUDIT_WINDOW_MS) {
      if (this.securityDropped > 0)
        this.log.warn({ dropped: this.securityDropped }, 'agent security events logged but not audited (rate limit)');
      this.securityWindowStart = now;
      this.securityAudited = 0;
      this.securityDropped = 0;
    }
    if (this.securityAudited >= SECURITY_AUDIT_BUDGET) {
      this.securityDropped += 1;
      return;
    }
    this.securityAudited += 1;
    this.audit({
      action: 'agent.security',
      actor: { kind: 'agent', id: this.agentId, name: this.name },
      agents: [this.name],
      probe: payload.probe ?? null,
      status: 'denied',
      detail: `${payload.kind}${payload.pack ? ` (pack ${payload.pack})` : ''}: ${payload.detail}`,
    });
  }

  private frameFailed(err: unknown, frame: Buffer): void {
    const code = isSondeError(err) ? err.code : ((err as { code?: string }).code ?? 'SONDE_ERR_BAD_FRAME');
    const message = err instanceof Error ? err.message : String(err);
    const refId = envelopeId(frame);
    if (code === 'SONDE_ERR_AGENT_MISMATCH') {
      this.log.warn({ remote: this.identity.remoteAddress, refId }, `impersonation attempt: ${message} on the connection of ${this.name}`);
      this.audit({
        action: 'agent.impersonation',
        actor: { kind: 'agent', id: this.agentId, name: this.name },
        agents: [this.name],
        status: 'denied',
        detail: `${message} on a connection authenticated as ${this.name} (${this.identity.method})`,
      });
    } else {
      this.log.warn({ code, refId }, `agent frame refused: ${message}`);
    }
    this.failures += 1;
    if (this.state === 'awaiting-register') {
      this.refuse(code, message, CloseCodes.policy, refId);
    } else if (this.failures >= MAX_FRAME_FAILURES) {
      this.refuse(code, `${message} (${this.failures} invalid frames: closing)`, CloseCodes.policy, refId);
    } else {
      this.send('reject', { code, message: message.slice(0, 2000), ...(refId ? { refId } : {}) });
    }
  }

  private onClose(code: number, reason: string): void {
    this.markClosed(`socket closed (${code}${reason ? ` ${reason}` : ''})`);
  }

  private markClosed(reason: string): void {
    if (this.state === 'closed') return;
    const wasRegistered = this.state === 'registered';
    this.state = 'closed';
    const waiters = this.pongWaiters;
    this.pongWaiters = undefined;
    if (waiters) for (const waiter of waiters) waiter(false);
    // `finish` deletes from the map: iterate over a copy.
    for (const pending of [...(this.pending?.values() ?? [])]) {
      pending.finish({
        status: 'offline',
        error: {
          code: 'SONDE_ERR_AGENT_DISCONNECTED',
          message: `agent ${this.name} disconnected before answering ${pending.probe}: ${reason}`,
        },
        truncated: false,
      });
    }
    this.ctx.closed(this);
    if (wasRegistered) this.ctx.seen(this.agentId, new Date(this.lastActivity).toISOString());
    this.log.info({ reason }, 'agent disconnected');
  }
}

/** The frame's envelope id when it has one, for the `refId` of a reject; never trusted for anything else. */
function envelopeId(frame: Buffer): string | undefined {
  try {
    const id = (JSON.parse(frame.toString('utf8')) as { id?: unknown }).id;
    return typeof id === 'string' && /^[0-9a-f-]{36}$/i.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}
