import path from 'node:path';
import {
  challengeHubUrl,
  decodeMessage,
  encodeMessage,
  PROTOCOL_VERSION,
  ReplayGuard,
  type DecodedMessage,
  type MessagePayload,
  type MessageType,
  type Register,
} from '@sonde/pack-sdk/protocol';
import WebSocket from 'ws';
import { agentKey, makeCsr, tempDir, testEnv } from '../helpers.js';
import { runCli, startHubProcess, type RunningHub } from '../process.js';

/**
 * What the security tests attack: a real `sonde-hub serve` process on a
 * loopback port with its own database, an unscoped admin key made by the CLI,
 * and helpers that enroll agents over REST and speak the signed agent protocol
 * on a raw WebSocket, the way a compromised agent would.
 */
export interface HubUnderAttack {
  hub: RunningHub;
  url: string;
  env: Record<string, string>;
  adminKey: string;
  stop(): Promise<void>;
}

export async function startHubUnderAttack(extra: Record<string, string> = {}): Promise<HubUnderAttack> {
  const { dir, cleanup } = tempDir('sonde-hubsec-');
  const env = testEnv(path.join(dir, 'sonde.db'), { SONDE_LOG_LEVEL: 'info', ...extra });
  let hub: RunningHub | undefined;
  try {
    hub = await startHubProcess(env);
    const created = await runCli(['keys', 'create', '--name', 'root', '--role', 'admin', '--json'], env);
    if (created.code !== 0) throw new Error(`keys create failed: ${created.stderr}`);
    const { rawKey } = JSON.parse(created.stdout) as { rawKey: string };
    const running = hub;
    return {
      hub: running,
      url: running.url,
      env,
      adminKey: rawKey,
      stop: async () => {
        // A hub whose event loop an attack froze does not act on SIGTERM: it is killed after a grace period.
        const timer = setTimeout(() => running.child.kill('SIGKILL'), 5_000);
        await running.stop();
        clearTimeout(timer);
        cleanup();
      },
    };
  } catch (error) {
    await hub?.stop();
    cleanup();
    throw error;
  }
}

export interface Json {
  [key: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export async function api(
  url: string,
  key: string,
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${url}${route}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : null) as Json };
}

/** A key made through REST by `creator`; returns the raw value or the refusal. */
export async function createKey(url: string, creator: string, body: Json): Promise<{ status: number; json: Json }> {
  return api(url, creator, 'POST', '/api/v1/api-keys', body);
}

/** One stateless MCP request (JSON-RPC over POST /mcp). */
export async function mcp(
  url: string,
  key: string,
  method: string,
  params: Json = {},
  headers: Record<string, string> = {},
): Promise<Json> {
  const res = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const text = await res.text();
  if (!res.ok) return { httpStatus: res.status, body: text };
  const json = text.startsWith('event:') || text.startsWith('data:') ? JSON.parse(/data: (.*)/.exec(text)![1]) : JSON.parse(text);
  return json as Json;
}

/** The JSON text of a tools/call result. */
export function toolJson(answer: Json): Json {
  return JSON.parse(answer.result.content[0].text) as Json;
}

export interface EnrolledAgent {
  id: string;
  name: string;
  apiKey: string;
  privateKeyPem: string;
  caPem: string;
  wsUrl: string;
}

/** Enrolls `name` through the public REST API (token by `adminKey`, CSR made the way the agent makes one). */
export async function enrollAgent(url: string, adminKey: string, name: string): Promise<EnrolledAgent> {
  const token = await api(url, adminKey, 'POST', '/api/v1/enrollment-tokens', { name });
  if (token.status !== 201) throw new Error(`token: ${token.status} ${JSON.stringify(token.json)}`);
  const enrolled = await api(url, token.json.token as string, 'POST', '/api/v1/enroll', {
    name,
    csrPem: makeCsr(name),
    agentVersion: '0.1.0',
  });
  if (enrolled.status !== 201) throw new Error(`enroll: ${enrolled.status} ${JSON.stringify(enrolled.json)}`);
  const j = enrolled.json;
  return {
    id: j.agentId,
    name: j.name,
    apiKey: j.apiKey,
    privateKeyPem: agentKey().privateKeyPem,
    caPem: j.caPem,
    wsUrl: `${url.replace(/^http/, 'ws')}/ws/agent`,
  };
}

/** A registration like a real agent's: unless given, the attestation lists exactly the active packs. */
export function registerPayload(agent: EnrolledAgent, overrides: Partial<Register> = {}): Register {
  const attestedPacks = (overrides.packs ?? [])
    .filter((pack) => pack.state === 'active')
    .map((pack) => ({ name: pack.name, version: pack.version, sha256: 'c'.repeat(64) }));
  return {
    name: agent.name,
    agentVersion: '0.1.0',
    protocolVersion: PROTOCOL_VERSION,
    attestation: {
      os: { platform: 'linux', release: '6.1.0', version: '#1', distro: 'debian 12' },
      kernel: '6.1.0',
      arch: 'x64',
      nodeVersion: 'v20.20.0',
      agentVersion: '0.1.0',
      agentCodeSha256: 'a'.repeat(64),
      configSha256: 'b'.repeat(64),
      packs: attestedPacks,
    },
    packs: [],
    maxConcurrency: 4,
    ...overrides,
  };
}

/** A raw WebSocket client speaking the signed agent protocol: what a compromised agent can send, nothing more. */
export class RawAgent {
  /** Every hub message but `hub.hello`, which is kept in `hello`. */
  readonly received: DecodedMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The hub's `hub.hello` (its nonce goes into every registration this RawAgent sends). */
  readonly hello: Promise<MessagePayload<'hub.hello'>>;
  private helloArrived!: (hello: MessagePayload<'hub.hello'>) => void;
  onProbe: ((request: MessagePayload<'hub.probe.request'>) => MessagePayload<'agent.probe.result'> | undefined) | undefined;
  private readonly replay = new ReplayGuard();
  private waiters: Array<{ type: MessageType | undefined; resolve: (message: DecodedMessage) => void }> = [];

  private constructor(
    readonly ws: WebSocket,
    readonly agent: EnrolledAgent,
  ) {
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
    this.hello = new Promise((resolve) => (this.helloArrived = resolve));
    ws.on('message', (data: Buffer) => {
      const message = decodeMessage(data, { key: agent.caPem, replay: this.replay, expectAgentId: agent.id });
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
    });
  }

  /** `features`: what the agent announces in `x-sonde-agent-features` (e.g. `pack-reject`); none, like an old agent. */
  static async connect(agent: EnrolledAgent, features: string[] = []): Promise<RawAgent> {
    const headers = {
      authorization: `Bearer ${agent.apiKey}`,
      ...(features.length ? { 'x-sonde-agent-features': features.join(', ') } : {}),
    };
    const ws = new WebSocket(agent.wsUrl, { headers, maxPayload: 1024 * 1024 });
    // Listening before the socket opens: the hub speaks first (hub.hello).
    const raw = new RawAgent(ws, agent);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with ${res.statusCode}`)));
      ws.once('error', reject);
    });
    await Promise.race([
      raw.hello,
      new Promise((_, reject) => setTimeout(() => reject(new Error('no hub.hello within 10 s')), 10_000).unref()),
    ]);
    return raw;
  }

  /** Connects and registers; resolves with the hub's answer (`hub.registered` or `reject`). */
  static async online(agent: EnrolledAgent, overrides: Partial<Register> = {}, features: string[] = []): Promise<RawAgent> {
    const raw = await RawAgent.connect(agent, features);
    const answer = await raw.register(overrides);
    if (answer.type !== 'hub.registered') throw new Error(`registration refused: ${JSON.stringify(answer.payload)}`);
    return raw;
  }

  frame<T extends MessageType>(type: T, payload: MessagePayload<T>): string {
    return encodeMessage(type, payload, { agentId: this.agent.id, key: this.agent.privateKeyPem });
  }

  send<T extends MessageType>(type: T, payload: MessagePayload<T>): string {
    const frame = this.frame(type, payload);
    this.ws.send(frame);
    return frame;
  }

  /** Registers as a real agent does: with this connection's challenge (nonce of its hello, the hub URL dialed). */
  async register(overrides: Partial<Register> = {}): Promise<DecodedMessage> {
    const { nonce } = await this.hello;
    const answer = this.next();
    this.send('agent.register', {
      challenge: { nonce, hubUrl: challengeHubUrl(this.agent.wsUrl) },
      ...registerPayload(this.agent, overrides),
    });
    return answer;
  }

  next(type?: MessageType, timeoutMs = 10_000): Promise<DecodedMessage> {
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

  close(): void {
    this.ws.terminate();
  }
}

/** Polls until `check` holds (no fixed sleeps). */
export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
