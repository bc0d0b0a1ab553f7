import { randomUUID } from 'node:crypto';
import {
  challengeHubUrl,
  decodeMessage,
  encodeMessage,
  PROTOCOL_VERSION,
  ReplayGuard,
  type Attestation,
  type DecodedMessage,
  type MessagePayload,
  type MessageType,
  type Register,
} from '@sonde/pack-sdk/protocol';
import WebSocket from 'ws';
import type { EnrolledAgent, TestHub } from './hub.js';

export function attestation(overrides: Partial<Attestation> = {}): Attestation {
  return {
    os: { platform: 'linux', release: '6.1.0-13-amd64', version: '#1 SMP Debian', distro: 'debian 12' },
    kernel: '6.1.0-13-amd64',
    arch: 'x64',
    nodeVersion: 'v20.20.0',
    agentVersion: '0.1.0',
    agentCodeSha256: 'a'.repeat(64),
    configSha256: 'b'.repeat(64),
    packs: [{ name: 'system', version: '1.0.0', sha256: 'c'.repeat(64) }],
    ...overrides,
  };
}

export function registerPayload(agent: EnrolledAgent, overrides: Partial<Register> = {}): Register {
  return {
    name: agent.name,
    agentVersion: '0.1.0',
    protocolVersion: PROTOCOL_VERSION,
    attestation: attestation(),
    packs: [{ name: 'system', version: '1.0.0', state: 'active' }],
    maxConcurrency: 4,
    isolation: 'test',
    ...overrides,
  };
}

export interface ConnectOptions {
  /** Authorization header; defaults to the agent's API key. `null` sends none. */
  authorization?: string | null;
  /** Client certificate for mTLS. */
  cert?: { certPem: string; keyPem: string };
  /** More upgrade headers (e.g. `x-sonde-agent-features`). */
  headers?: Record<string, string>;
}

const earlyFrames = new WeakMap<WebSocket, { frames: Buffer[]; stop(): void }>();

/** Opens a WebSocket to the hub; resolves with the HTTP status instead when the upgrade is refused. */
export function openSocket(
  hub: TestHub,
  options: ConnectOptions & { apiKey?: string } = {},
): Promise<WebSocket | { status: number; body: string }> {
  const authorization =
    options.authorization === undefined ? (options.apiKey ? `Bearer ${options.apiKey}` : undefined) : options.authorization;
  const ws = new WebSocket(hub.wsUrl, {
    headers: { ...options.headers, ...(authorization ? { authorization } : {}) },
    ca: hub.ca.certPem,
    ...(options.cert ? { cert: options.cert.certPem, key: options.cert.keyPem } : {}),
    // The agent side accepts frames up to 1 MiB as well; tests that send more build the frame themselves.
    maxPayload: 1024 * 1024,
  });
  // The hub speaks first (hub.hello): frames that arrive before a SimAgent takes the socket are kept for it.
  const early: Buffer[] = [];
  const keep = (data: Buffer): void => void early.push(data);
  ws.on('message', keep);
  earlyFrames.set(ws, { frames: early, stop: () => ws.off('message', keep) });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

/**
 * A scripted agent speaking the wire protocol with the pack-sdk helpers, so
 * tests can do what a real agent does and what a hostile one would try.
 */
export class SimAgent {
  /** Every hub message but `hub.hello`, which is kept in `hello`. */
  readonly received: DecodedMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The hub's `hub.hello` (its nonce goes into every registration this SimAgent sends). */
  readonly hello: Promise<MessagePayload<'hub.hello'>>;
  private helloArrived!: (hello: MessagePayload<'hub.hello'>) => void;
  private readonly replay = new ReplayGuard();
  private waiters: Array<{ type: MessageType | undefined; resolve: (message: DecodedMessage) => void }> = [];
  private heartbeat: NodeJS.Timeout | undefined;
  /** Answers probe requests automatically when set. */
  onProbe: ((request: MessagePayload<'hub.probe.request'>) => MessagePayload<'agent.probe.result'> | undefined) | undefined;

  constructor(
    readonly ws: WebSocket,
    readonly agent: EnrolledAgent,
    private readonly hub: TestHub,
  ) {
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
    this.hello = new Promise((resolve) => (this.helloArrived = resolve));
    const onMessage = (data: Buffer): void => {
      const message = decodeMessage(data, { key: agent.hubKey ?? hub.ca.certPem, replay: this.replay, expectAgentId: agent.id });
      if (message.type === 'hub.hello') return this.helloArrived(message.payload);
      this.received.push(message);
      const waiter = this.waiters.find((candidate) => !candidate.type || candidate.type === message.type);
      if (waiter) {
        this.waiters = this.waiters.filter((candidate) => candidate !== waiter);
        waiter.resolve(message);
      }
      if (message.type === 'hub.probe.request' && this.onProbe) {
        const answer = this.onProbe(message.payload);
        if (answer) this.send('agent.probe.result', answer);
      }
    };
    const early = earlyFrames.get(ws);
    early?.stop();
    for (const frame of early?.frames ?? []) onMessage(frame);
    ws.on('message', onMessage);
  }

  /** Connects and waits for the hub's hello (not registered yet). */
  static async connect(hub: TestHub, agent: EnrolledAgent, options: ConnectOptions = {}): Promise<SimAgent> {
    const ws = await openSocket(hub, { apiKey: agent.apiKey, ...options });
    if (!(ws instanceof WebSocket)) throw new Error(`upgrade refused with ${ws.status}`);
    const sim = new SimAgent(ws, agent, hub);
    await Promise.race([
      sim.hello,
      new Promise((_, reject) => setTimeout(() => reject(new Error('no hub.hello within 5 s')), 5_000).unref()),
    ]);
    return sim;
  }

  /** The registration a real agent would send on this connection: the payload with this connection's challenge. */
  async registerFrame(overrides: Partial<Register> = {}): Promise<string> {
    const { nonce } = await this.hello;
    return this.frame('agent.register', {
      challenge: { nonce, hubUrl: challengeHubUrl(this.hub.wsUrl) },
      ...registerPayload(this.agent, overrides),
    });
  }

  /** Connects and registers; resolves once `hub.registered` arrives. */
  static async online(hub: TestHub, agent: EnrolledAgent, overrides: Partial<Register> = {}): Promise<SimAgent> {
    const sim = await SimAgent.connect(hub, agent);
    const answer = await sim.register(overrides);
    if (answer.type !== 'hub.registered') throw new Error(`registration refused: ${JSON.stringify(answer.payload)}`);
    return sim;
  }

  frame<T extends MessageType>(
    type: T,
    payload: MessagePayload<T>,
    options: { agentId?: string; key?: string; now?: () => number } = {},
  ): string {
    return encodeMessage(type, payload, {
      agentId: options.agentId ?? this.agent.id,
      key: options.key ?? this.agent.privateKeyPem,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  send<T extends MessageType>(
    type: T,
    payload: MessagePayload<T>,
    options: { agentId?: string; key?: string; now?: () => number } = {},
  ): string {
    const frame = this.frame(type, payload, options);
    this.ws.send(frame);
    return frame;
  }

  sendRaw(frame: string | Buffer): void {
    this.ws.send(frame);
  }

  /** Registers as a real agent does (with this connection's challenge unless `overrides.challenge` says otherwise). */
  async register(overrides: Partial<Register> = {}): Promise<DecodedMessage> {
    const frame = await this.registerFrame(overrides);
    const answer = this.next();
    this.sendRaw(frame);
    return answer;
  }

  /** The next message (of a type, if given) from the hub. */
  next(type?: MessageType, timeoutMs = 5_000): Promise<DecodedMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type ?? 'message'} from the hub within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        type,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      });
    });
  }

  startHeartbeats(intervalMs = this.hub.heartbeatMs): void {
    this.heartbeat = setInterval(() => {
      if (this.ws.readyState === WebSocket.OPEN) this.send('agent.heartbeat', { uptimeS: 1, running: 0, rssBytes: 1024 });
    }, intervalMs);
  }

  /** Answers every probe request with `ok` and the probe name. */
  answerOk(result: (request: MessagePayload<'hub.probe.request'>) => unknown = (request) => ({ probe: request.probe })): void {
    this.onProbe = (request) => ({ requestId: request.requestId, status: 'ok', result: result(request), durationMs: 1, truncated: false });
  }

  stopHeartbeats(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
  }

  /**
   * Simulates a hung agent or a half-open network path: no heartbeats and the
   * socket is no longer read, so pings get no pongs.
   */
  freeze(): void {
    this.stopHeartbeats();
    (this.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  }

  close(): void {
    this.stopHeartbeats();
    this.ws.close();
  }
}

export { randomUUID };
