import {
  challengeHubUrl,
  decodeMessage,
  encodeMessage,
  MAX_FRAME_BYTES,
  ReplayGuard,
  type MessagePayload,
  type MessageType,
  type Register,
} from '@sonde/pack-sdk/protocol';
import { isSondeError } from '@sonde/pack-sdk';
import type { Logger } from 'pino';
import type WsWebSocket from 'ws';
import type { LoadedIdentity } from '../identity/identity.js';
import { requireCjs } from '../cjs.js';
import { Backoff, retryAfterMs } from './backoff.js';
import type { ProbeExecutor } from './executor.js';

const WebSocket = requireCjs('ws') as typeof WsWebSocket;
type WebSocket = WsWebSocket;

export interface ConnectionState {
  connected: boolean;
  registered: boolean;
  lastRegisteredAt?: string;
  lastError?: string;
  connects: number;
  rejectedFrames: number;
}

export interface ConnectionOptions {
  identity: LoadedIdentity;
  /**
   * Reads the identity again before each connection: after `sonde renew` (a new certificate, perhaps a move from
   * RSA to Ed25519 on the wire) the next connection uses the new credentials without a restart.
   */
  reloadIdentity?: () => LoadedIdentity;
  executor: ProbeExecutor;
  /** Multi-hub: more hubs to move to when a connection drops (`hubUrls` in the config), after the enrolled one. */
  hubUrls?: string[];
  /** Built fresh for every connection: attestation is sent on every reconnect. */
  registration: () => Register;
  log: Logger;
  backoff: { initialMs: number; maxMs: number };
  onStateChange: (state: ConnectionState) => void;
  /** After every successful registration (forward what the hub missed while disconnected). */
  onRegistered?: () => void;
  /** The hub pushed its signed revocation list. */
  onRevocations?: (list: unknown) => void;
  /** An admin approved a pack from the hub; the answer goes back as agent.packs.approve.result. */
  onPackApprove?: (request: MessagePayload<'hub.packs.approve'>) => Promise<MessagePayload<'agent.packs.approve.result'>>;
  /** An admin rejected a pending pack version from the hub; the answer goes back as agent.packs.reject.result. */
  onPackReject?: (request: MessagePayload<'hub.packs.reject'>) => Promise<MessagePayload<'agent.packs.reject.result'>>;
}

/** The WebSocket upgrade (TCP, TLS, HTTP answer) may take this long before the attempt counts as failed. */
export const HANDSHAKE_TIMEOUT_MS = 15_000;
/**
 * Once the socket is open and until the hub names its heartbeat interval, a silence (no frame) this long drops the
 * connection (`armLiveness`): the hub's hello normally arrives at once, so it is the wait for `hub.registered`.
 */
export const REGISTER_TIMEOUT_MS = 30_000;
/** Optional protocol behaviour this agent understands, announced on the upgrade (old hubs ignore the header). */
const AGENT_FEATURES = 'drain, pack-reject';

/** `https://hub:3000` → `wss://hub:3000/ws/agent`; a ws(s) URL with a path is taken as it is. */
export function agentSocketUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol === 'http:' || parsed.protocol === 'https:') {
    parsed.protocol = parsed.protocol === 'https:' ? 'wss:' : 'ws:';
    if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/ws/agent';
  }
  return parsed.href;
}

/**
 * The agent's only network path: one outbound WebSocket to the hub. It never
 * listens. TLS pins the hub CA and presents the client certificate; the API
 * key goes in the Authorization header. Every frame out is signed with the
 * agent key; every frame in must verify against the hub CA key, be fresh and
 * unseen, and name this agent, or it is dropped, logged and reported.
 */
export class HubConnection {
  private socket: WebSocket | undefined;
  private replay = new ReplayGuard();
  private identity: LoadedIdentity;
  private readonly backoff: Backoff;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private livenessTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private lastSeen = 0;
  private heartbeatMs = 0;
  private stopped = false;
  private readonly startedAt = Date.now();
  /** The enrolled hub first, then `hubUrls`; a dropped connection moves to the next. */
  private readonly urls: string[];
  private urlIndex = 0;
  /** Set by `hub.drain`: the delay the hub asked for, used instead of the backoff for the next attempt. */
  private drainDelayMs: number | undefined;
  /** Set by a 503/429 with `Retry-After` on the upgrade: the hub is shedding load; the next attempt waits at least this. */
  private retryAfterMs: number | undefined;
  /** The socket URL of the current connection: signed into the registration as the hub it was made for. */
  private currentUrl = '';
  /** One registration per connection, whatever the peer sends. */
  private helloAnswered = false;
  readonly state: ConnectionState = { connected: false, registered: false, connects: 0, rejectedFrames: 0 };

  constructor(private readonly options: ConnectionOptions) {
    this.backoff = new Backoff(options.backoff.initialMs, options.backoff.maxMs);
    const urls = [options.identity.wsUrl, ...(options.hubUrls ?? []).map(agentSocketUrl)];
    this.urls = urls.filter((url, index) => urls.indexOf(url) === index);
    this.identity = options.identity;
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.clearTimers();
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        socket.terminate();
        resolve();
      }, 2000);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.close(1000, 'agent stopping');
    });
  }

  /**
   * Signs and sends one message; false when there is no open socket. What the agent builds from its own validated
   * state (registration with its verified manifests, heartbeats, pack reports) is not parsed again before signing:
   * the hub parses every frame and refuses an invalid one, and the parse of `agent.register` alone was ~20-30 ms of
   * CPU at every start (bench/README.md, "Agent start-up"). A probe's result is no exception: the executor builds it
   * within the schema's bounds (executor.ts; what a pack returned is scrubbed and capped, its error code and message
   * cut to the wire's limits, `result` is any value), and a sandboxed pack's frame was parsed on arrival
   * (ChildMessageSchema). The parse before signing was ~2 % of the agent's CPU per call.
   */
  send<T extends MessageType>(type: T, payload: MessagePayload<T>): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(
      encodeMessage(type, payload, {
        agentId: this.identity.agentId,
        key: this.identity.signingKey,
        validate: false,
      }),
    );
    return true;
  }

  private open(): void {
    const { log } = this.options;
    if (this.options.reloadIdentity && this.state.connects > 0) {
      try {
        const next = this.options.reloadIdentity();
        // The same agent only: a re-enrolment as another agent needs a restart.
        if (next.agentId === this.identity.agentId) this.identity = next;
      } catch (error) {
        log.warn({ err: (error as Error).message }, 'could not read the identity again; connecting with the one loaded');
      }
    }
    const identity = this.identity;
    const wsUrl = this.urls[this.urlIndex];
    this.currentUrl = wsUrl;
    const url = new URL(wsUrl);
    const tls = url.protocol === 'wss:';
    this.replay = new ReplayGuard();
    this.helloAnswered = false;
    this.lastSeen = Date.now();
    const socket = new WebSocket(wsUrl, {
      headers: { authorization: `Bearer ${identity.apiKey}`, 'x-sonde-agent-features': AGENT_FEATURES },
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      followRedirects: false,
      ...(tls ? { ca: identity.caPem, cert: identity.certPem, key: identity.keyPem, rejectUnauthorized: true } : {}),
    });
    this.socket = socket;
    socket.on('open', () => {
      this.state.connected = true;
      this.state.connects++;
      this.emit();
      // The hub speaks first (hub.hello with this connection's nonce); the registration answers it.
      log.info({ url: wsUrl }, 'connected to hub; waiting for its hello');
      this.armLiveness(REGISTER_TIMEOUT_MS);
    });
    socket.on('message', (data: WsWebSocket.RawData) => {
      this.lastSeen = Date.now();
      this.onFrame(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer));
    });
    socket.on('pong', () => {
      this.lastSeen = Date.now();
    });
    socket.on('unexpected-response', (_request, response) => {
      const asked = response.statusCode === 503 || response.statusCode === 429 ? retryAfterMs(response.headers['retry-after']) : undefined;
      if (asked !== undefined) {
        // A hub at its admission limit (or throttling this address) is not a fault of this agent: come back when asked.
        this.retryAfterMs = asked;
        this.state.lastError = `hub busy (HTTP ${response.statusCode}); it asked for a retry after ${Math.round(asked / 1000)} s`;
        log.warn({ status: response.statusCode, retryAfterMs: asked }, this.state.lastError);
        socket.terminate();
        return;
      }
      const reason =
        response.statusCode === 401
          ? 'hub refused the agent credentials (HTTP 401)'
          : `hub answered HTTP ${response.statusCode} instead of upgrading`;
      this.state.lastError = reason;
      log.error({ status: response.statusCode }, reason);
      socket.terminate();
    });
    socket.on('error', (error) => {
      this.state.lastError = error.message;
      log.warn({ err: error.message }, 'hub connection error');
    });
    socket.on('close', (code, reason) => {
      this.clearTimers();
      const wasRegistered = this.state.registered;
      this.state.connected = false;
      this.state.registered = false;
      this.emit();
      if (this.socket === socket) this.socket = undefined;
      if (this.stopped) return;
      // Several hubs: the next attempt goes to the next one (the one that dropped us may be gone).
      this.urlIndex = (this.urlIndex + 1) % this.urls.length;
      const drained = this.drainDelayMs !== undefined;
      const asked = this.retryAfterMs;
      const delay = this.drainDelayMs ?? (asked !== undefined ? this.backoff.afterRefusal(asked) : this.backoff.next());
      this.drainDelayMs = undefined;
      this.retryAfterMs = undefined;
      const why = drained ? ' (as the draining hub asked)' : asked !== undefined ? ` (the hub asked for Retry-After ${asked} ms)` : '';
      log.warn(
        { code, reason: reason.toString(), wasRegistered, retryInMs: delay, next: this.urls[this.urlIndex], drained, retryAfterMs: asked },
        `hub connection closed; reconnecting in ${delay} ms${why}`,
      );
      this.reconnectTimer = setTimeout(() => this.open(), delay);
    });
  }

  private onFrame(frame: Buffer): void {
    const { log } = this.options;
    const identity = this.identity;
    let message;
    try {
      message = decodeMessage(frame, { key: identity.hubKey, replay: this.replay, expectAgentId: identity.agentId });
    } catch (error) {
      const code = isSondeError(error) ? error.code : 'SONDE_ERR_BAD_FRAME';
      const detail = error instanceof Error ? error.message : String(error);
      this.state.rejectedFrames++;
      this.emit();
      log.warn({ code, detail }, `rejected hub message: ${code}`);
      this.send('agent.security', { kind: 'hub-message-rejected', detail: `${code}: ${detail}`.slice(0, 2000) });
      return;
    }
    switch (message.type) {
      case 'hub.hello': {
        if (this.state.registered || this.helloAnswered) {
          log.warn('hub sent a second hello on one connection; ignored');
          return;
        }
        this.helloAnswered = true;
        // Signed with everything else: the nonce binds this registration to this socket, the URL to the hub dialed.
        const challenge = { nonce: message.payload.nonce, hubUrl: challengeHubUrl(this.currentUrl) };
        this.send('agent.register', { ...this.options.registration(), challenge });
        log.info({ hubVersion: message.payload.hubVersion }, 'hub hello received; registering');
        return;
      }
      case 'hub.registered': {
        this.heartbeatMs = message.payload.heartbeatIntervalMs;
        this.state.registered = true;
        this.state.lastRegisteredAt = new Date().toISOString();
        this.backoff.reset();
        this.emit();
        log.info(
          {
            agentId: identity.agentId,
            heartbeatMs: this.heartbeatMs,
            hubVersion: message.payload.hubVersion,
            wire: identity.wireSignature ?? 'rsa-sha256',
          },
          'registered with hub',
        );
        this.startHeartbeats();
        this.options.onRegistered?.();
        return;
      }
      case 'hub.revocations':
        this.options.onRevocations?.(message.payload.list);
        return;
      case 'hub.packs.approve': {
        const request = message.payload;
        const answer = this.options.onPackApprove
          ? this.options.onPackApprove(request)
          : Promise.resolve({
              requestId: request.requestId,
              ok: false,
              error: { code: 'SONDE_ERR_UNSUPPORTED', message: 'remote approval is off' },
            });
        void answer.then((result) => this.send('agent.packs.approve.result', result));
        return;
      }
      case 'hub.packs.reject': {
        const request = message.payload;
        const answer = this.options.onPackReject
          ? this.options.onPackReject(request)
          : Promise.resolve({
              requestId: request.requestId,
              ok: false,
              error: { code: 'SONDE_ERR_UNSUPPORTED', message: 'remote rejection is off' },
            });
        void answer.then((result) => this.send('agent.packs.reject.result', result));
        return;
      }
      case 'hub.probe.request': {
        const request = message.payload;
        // Debug, not info: every call is already in the audit ring (`sonde audit`), and a log line per call was ~5 % of
        // the agent's CPU under load (a JSON line and a stdout write each).
        log.debug({ requestId: request.requestId, probe: request.probe }, 'probe request');
        void this.options.executor.handle(request).then((result) => {
          if (!this.send('agent.probe.result', result))
            log.warn({ requestId: request.requestId }, 'probe finished after the connection closed; result dropped');
        });
        return;
      }
      case 'hub.drain':
        // The hub is shutting down and picked when we should come back, so its agents do not all arrive at once.
        this.drainDelayMs = message.payload.reconnectInMs;
        log.info({ reconnectInMs: message.payload.reconnectInMs, reason: message.payload.reason }, 'hub is draining');
        return;
      case 'reject': {
        this.state.lastError = `${message.payload.code}: ${message.payload.message}`;
        this.emit();
        log.error({ code: message.payload.code, refId: message.payload.refId }, `hub rejected a message: ${message.payload.message}`);
        return;
      }
      default:
        log.warn({ type: message.type }, 'ignoring a message type the hub should not send');
    }
  }

  private startHeartbeats(): void {
    this.clearTimers();
    const beat = (): void => {
      this.send('agent.heartbeat', {
        uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
        running: this.options.executor.inFlight,
        rssBytes: process.memoryUsage.rss(),
      });
      this.socket?.ping();
    };
    beat();
    this.heartbeatTimer = setInterval(beat, this.heartbeatMs);
    this.armLiveness(2 * this.heartbeatMs);
  }

  /** A half-open socket shows up as silence: nothing (frame or pong) for `limitMs` → terminate and reconnect. */
  private armLiveness(limitMs: number): void {
    clearInterval(this.livenessTimer);
    const tick = Math.max(50, Math.min(1000, Math.floor(limitMs / 4)));
    let lastTick = Date.now();
    this.livenessTimer = setInterval(() => {
      const now = Date.now();
      // A blocked event loop (a heavy probe) also delays reading pongs: silence we could not observe is not the hub's.
      if (now - lastTick > tick * 3) this.lastSeen = Math.max(this.lastSeen, now - tick);
      lastTick = now;
      if (now - this.lastSeen <= limitMs) return;
      this.options.log.warn({ silentMs: Date.now() - this.lastSeen }, 'hub is silent for two heartbeat intervals; dropping the connection');
      this.socket?.terminate();
    }, tick);
  }

  private clearTimers(): void {
    clearInterval(this.heartbeatTimer);
    clearInterval(this.livenessTimer);
    this.heartbeatTimer = undefined;
    this.livenessTimer = undefined;
  }

  private emit(): void {
    this.options.onStateChange({ ...this.state });
  }
}
