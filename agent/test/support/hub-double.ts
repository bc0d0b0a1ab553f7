import { createHash, generateKeyPairSync, randomBytes, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import forge from 'node-forge';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  challengeNonceMatches,
  decodeMessage,
  encodeMessage,
  EnrollRequestSchema,
  MAX_FRAME_BYTES,
  newConnectionNonce,
  ReplayGuard,
  type DecodedMessage,
  type MessagePayload,
  type MessageType,
} from '@sonde/pack-sdk/protocol';
import { generateKeyPair } from '@sonde/registry';

/**
 * A double of the hub for the agent's protocol tests: it speaks wire.md —
 * enrollment over HTTP(S) with one-time tokens, a CA issuing client
 * certificates from CSRs, `/ws/agent` with Bearer (and mTLS when TLS is on),
 * signed frames both ways — with its own CA and no database. Tests drive it
 * directly: send probes, send raw (tampered) frames, freeze a connection.
 * test/contract/hub-double.test.ts holds it to the real hub's answers.
 */

interface TokenRecord {
  expiresAt: number;
  used: boolean;
  name?: string;
}

interface AgentRecord {
  agentId: string;
  name: string;
  apiKeyHash: string;
  publicKey: KeyObject;
  certSerial: string;
}

export interface HubConnectionRecord {
  agentId: string;
  socket: WebSocket;
  replay: ReplayGuard;
  registered: boolean;
  frozen: boolean;
  received: DecodedMessage[];
  rejected: string[];
  /** What the agent announced in `x-sonde-agent-features`. */
  features: string;
  /** The challenge sent in `hub.hello`; the registration must carry it back, as on the real hub. */
  nonce: string;
}

export interface TestHubOptions {
  tls?: boolean;
  heartbeatIntervalMs?: number;
  /** Fixed port (a restarted hub keeps the address agents enrolled with); default any free port. */
  port?: number;
  /** Continue from a stopped hub: same CA and enrolled agents. */
  from?: TestHub;
}

function toForgeKey(pem: string): forge.pki.rsa.PrivateKey {
  return forge.pki.privateKeyFromPem(pem);
}

function makeCa(): { keyPem: string; key: KeyObject; certPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 86_400_000);
  const attrs = [{ name: 'commonName', value: 'Sonde Test Hub CA' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true },
  ]);
  cert.sign(toForgeKey(keyPem), forge.md.sha256.create());
  return { keyPem, key: privateKey, certPem: forge.pki.certificateToPem(cert) };
}

function issue(
  ca: { keyPem: string; certPem: string },
  publicKey: forge.pki.PublicKey,
  commonName: string,
  usage: 'client' | 'server',
): { certPem: string; serial: string } {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomBytes(8)
    .toString('hex')
    .replace(/^[89a-f]/, '1');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: commonName }]);
  cert.setIssuer(forge.pki.certificateFromPem(ca.certPem).subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', clientAuth: usage === 'client', serverAuth: usage === 'server' },
    ...(usage === 'server'
      ? [
          {
            name: 'subjectAltName',
            altNames: [
              { type: 7, ip: '127.0.0.1' },
              { type: 2, value: 'localhost' },
            ],
          },
        ]
      : []),
  ]);
  cert.sign(toForgeKey(ca.keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), serial: cert.serialNumber };
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The envelope id of a frame that failed to decode, when it has one. */
function frameId(frame: Buffer): string | undefined {
  try {
    const id = (JSON.parse(frame.toString('utf8')) as { id?: unknown }).id;
    return typeof id === 'string' && /^[0-9a-f-]{36}$/i.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

export class TestHub {
  readonly ca: ReturnType<typeof makeCa>;
  /** The hub's revocation-signing key (Ed25519), sent at enrollment as the real hub does. */
  readonly revocationKey: ReturnType<typeof generateKeyPair>;
  readonly heartbeatIntervalMs: number;
  readonly tls: boolean;
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly agents: Map<string, AgentRecord>;
  readonly connections: HubConnectionRecord[] = [];
  readonly enrollRequests: Array<{ name: string; csrPem: string }> = [];
  private server!: http.Server;
  private wss!: WebSocketServer;
  private waiters: Array<() => void> = [];
  port = 0;

  constructor(options: TestHubOptions = {}) {
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1000;
    this.tls = options.tls ?? options.from?.tls ?? false;
    this.ca = options.from?.ca ?? makeCa();
    this.revocationKey = options.from?.revocationKey ?? generateKeyPair();
    this.agents = options.from?.agents ?? new Map();
    this.port = options.port ?? 0;
  }

  get baseUrl(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<this> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => void this.onHttp(req, res);
    if (this.tls) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const server = issue(
        this.ca,
        forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
        '127.0.0.1',
        'server',
      );
      this.server = https.createServer(
        {
          key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
          cert: server.certPem,
          ca: this.ca.certPem,
          requestCert: true,
          rejectUnauthorized: false,
        },
        handler,
      );
    } else {
      this.server = http.createServer(handler);
    }
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, autoPong: false });
    this.server.on('upgrade', (req, socket, head) => {
      const agent = this.authenticate(req);
      if (!agent || req.url !== '/ws/agent') {
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        socket.destroy();
        return;
      }
      const features = String(req.headers['x-sonde-agent-features'] ?? '');
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws, agent, features));
    });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', resolve);
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  createToken(options: { name?: string; ttlMs?: number; used?: boolean } = {}): string {
    const token = `enr_${randomBytes(16).toString('hex')}`;
    this.tokens.set(sha256(token), {
      expiresAt: Date.now() + (options.ttlMs ?? 15 * 60_000),
      used: options.used ?? false,
      name: options.name,
    });
    return token;
  }

  private authenticate(req: http.IncomingMessage): AgentRecord | undefined {
    if (this.tls) {
      const peer = (req.socket as TLSSocket).getPeerCertificate?.();
      if (peer && (req.socket as TLSSocket).authorized && peer.serialNumber) {
        const found = [...this.agents.values()].find((agent) => agent.certSerial.toLowerCase() === peer.serialNumber.toLowerCase());
        if (found) return found;
      }
    }
    const header = req.headers.authorization ?? '';
    const key = header.startsWith('Bearer ') ? header.slice(7) : '';
    return [...this.agents.values()].find((agent) => agent.apiKeyHash === sha256(key));
  }

  private async onHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const fail = (status: number, code: string, message: string): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code, message } }));
    };
    if (req.method !== 'POST' || req.url !== '/api/v1/enroll') return fail(404, 'SONDE_ERR_NOT_FOUND', 'not found');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const header = req.headers.authorization ?? '';
    const token = this.tokens.get(sha256(header.startsWith('Bearer ') ? header.slice(7) : ''));
    if (!token) return fail(401, 'SONDE_ERR_TOKEN_INVALID', 'unknown enrollment token');
    if (token.used) return fail(401, 'SONDE_ERR_TOKEN_USED', 'enrollment token already used');
    if (token.expiresAt < Date.now()) return fail(401, 'SONDE_ERR_TOKEN_EXPIRED', 'enrollment token expired');
    let body;
    try {
      body = EnrollRequestSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    } catch (error) {
      return fail(400, 'SONDE_ERR_VALIDATION', String(error));
    }
    const existing = [...this.agents.values()].find((agent) => agent.name === body.name);
    if (existing && token.name !== body.name) return fail(409, 'SONDE_ERR_NAME_TAKEN', `agent ${body.name} exists`);
    const csr = forge.pki.certificationRequestFromPem(body.csrPem);
    if (!csr.verify()) return fail(400, 'SONDE_ERR_VALIDATION', 'CSR signature does not verify');
    token.used = true;
    this.enrollRequests.push({ name: body.name, csrPem: body.csrPem });
    const issued = issue(this.ca, csr.publicKey!, body.name, 'client');
    const apiKey = `sonde_agent_${randomBytes(24).toString('hex')}`;
    const agentId = existing?.agentId ?? randomUUID();
    this.agents.set(agentId, {
      agentId,
      name: body.name,
      apiKeyHash: sha256(apiKey),
      publicKey: new X509Certificate(issued.certPem).publicKey,
      certSerial: issued.serial,
    });
    const wsUrl = `${this.tls ? 'wss' : 'ws'}://127.0.0.1:${this.port}/ws/agent`;
    res.writeHead(201, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        agentId,
        name: body.name,
        certPem: issued.certPem,
        caPem: this.ca.certPem,
        apiKey,
        wsUrl,
        revocationKey: { keyId: this.revocationKey.keyId, publicKey: this.revocationKey.publicKey },
      }),
    );
  }

  private onSocket(ws: WebSocket, agent: AgentRecord, features: string): void {
    const record: HubConnectionRecord = {
      agentId: agent.agentId,
      features,
      socket: ws,
      replay: new ReplayGuard(),
      registered: false,
      frozen: false,
      received: [],
      rejected: [],
      nonce: newConnectionNonce(),
    };
    this.connections.push(record);
    ws.on('ping', (data) => {
      if (!record.frozen) ws.pong(data);
    });
    ws.on('message', (data) => {
      if (record.frozen) return;
      let message: DecodedMessage;
      try {
        message = decodeMessage(data as Buffer, { key: agent.publicKey, replay: record.replay, expectAgentId: agent.agentId });
      } catch (error) {
        const code = (error as { code?: string }).code ?? 'SONDE_ERR_BAD_FRAME';
        record.rejected.push(code);
        // As the real hub's gateway does: a signed `reject` naming the refused frame, and the connection stays open.
        const refId = frameId(data as Buffer);
        this.send(record, 'reject', { code, message: String((error as Error).message).slice(0, 2000), ...(refId ? { refId } : {}) });
        this.notify();
        return;
      }
      record.received.push(message);
      if (message.type === 'agent.register') {
        // As the real hub's registration.ts `bindingProblem`: the nonce of this connection's hello, or refused.
        const challenge = message.payload.challenge;
        if (!challenge || !challengeNonceMatches(record.nonce, challenge)) {
          const code = challenge ? 'SONDE_ERR_CHALLENGE_MISMATCH' : 'SONDE_ERR_CHALLENGE_MISSING';
          this.send(record, 'reject', { code, message: 'agent.register is not bound to this connection' });
          ws.close(challenge ? 1008 : 4426, code);
          this.notify();
          return;
        }
        record.registered = true;
        this.send(record, 'hub.registered', {
          agentId: agent.agentId,
          heartbeatIntervalMs: this.heartbeatIntervalMs,
          hubVersion: 'test-hub',
        });
      }
      this.notify();
    });
    ws.on('close', () => this.notify());
    this.send(record, 'hub.hello', { nonce: record.nonce, hubVersion: 'test-hub' });
    this.notify();
  }

  /** Signs with the CA key, as the real hub does. */
  frame<T extends MessageType>(type: T, payload: MessagePayload<T>, agentId: string, now?: () => number): string {
    return encodeMessage(type, payload, { agentId, key: this.ca.key, now });
  }

  send<T extends MessageType>(record: HubConnectionRecord, type: T, payload: MessagePayload<T>): string {
    const frame = this.frame(type, payload, record.agentId);
    record.socket.send(frame);
    return frame;
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves when `check` returns a value, re-checking after every hub event. */
  async waitFor<T>(check: () => T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`test hub: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The newest open, registered connection (optionally of one agent). */
  live(agentId?: string): HubConnectionRecord | undefined {
    return [...this.connections]
      .reverse()
      .find((c) => c.registered && c.socket.readyState === c.socket.OPEN && (!agentId || c.agentId === agentId));
  }

  waitForRegistered(count = 1, timeoutMs = 15_000): Promise<HubConnectionRecord> {
    return this.waitFor(
      () => this.connections.filter((c) => c.registered).length >= count && this.live(),
      timeoutMs,
      `${count} registration(s)`,
    );
  }

  /** Sends a signed probe request and waits for the matching signed result. */
  async probe(
    probe: string,
    params: Record<string, unknown> = {},
    options: { timeoutMs?: number; record?: HubConnectionRecord } = {},
  ): Promise<Extract<DecodedMessage, { type: 'agent.probe.result' }>> {
    const record = options.record ?? this.live();
    if (!record) throw new Error('test hub: no registered agent');
    const requestId = randomUUID();
    this.send(record, 'hub.probe.request', { requestId, probe, params, timeoutMs: options.timeoutMs ?? 10_000 });
    return this.waitFor(
      () =>
        record.received.find(
          (m): m is Extract<DecodedMessage, { type: 'agent.probe.result' }> =>
            m.type === 'agent.probe.result' && m.payload.requestId === requestId,
        ),
      (options.timeoutMs ?? 10_000) + 5000,
      `result of ${probe}`,
    );
  }

  agentPublicKey(agentId: string): KeyObject | undefined {
    return this.agents.get(agentId)?.publicKey;
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.socket.terminate();
    this.wss?.close();
    this.server?.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

export async function startTestHub(options: TestHubOptions = {}): Promise<TestHub> {
  return new TestHub(options).listen();
}
