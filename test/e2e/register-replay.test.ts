import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startHubProcess, runCli as runHubCli, type RunningHub } from '../../hub/test/process.js';
import {
  agentHome as trustedAgentHome,
  agentUser,
  json,
  removeDir,
  runCli as runAgentCli,
  spawnAgent,
  type AgentProcess,
} from '../../agent/test/support/cli.js';

/**
 * Issue 19, "Replay and identity": a captured `agent.register` frame replayed on a new connection, with the agent's
 * stolen API key, took over the agent's identity. Here a real agent registers with a real hub process through a
 * loopback TCP relay that records the bytes (what a tap on a plain-ws path, or a TLS-terminating middlebox, sees);
 * the frame and key it captured are then replayed on fresh sockets straight to the hub, with the agent online and with
 * it offline. Each replay must be refused and audited, and the real agent must still come back.
 */

interface Capture {
  /** The agent's upgrade requests, as sent. */
  upgrades: string[];
  /** Text frames the agent sent (unmasked), in order. */
  frames: string[];
}

/** Reads the client half of a WebSocket connection: the HTTP upgrade, then masked frames (RFC 6455 §5.2). */
function tapClient(capture: Capture): (chunk: Buffer) => void {
  let buffer = Buffer.alloc(0);
  let upgraded = false;
  let ignored = false;
  return (chunk) => {
    if (ignored) return;
    buffer = Buffer.concat([buffer, chunk]);
    if (!upgraded) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffer.subarray(0, end).toString('latin1');
      buffer = buffer.subarray(end + 4);
      // Only the agent's WebSocket: the enrollment (a plain POST) passes through the relay too.
      if (!head.startsWith('GET /ws/agent')) {
        ignored = true;
        return;
      }
      capture.upgrades.push(head);
      upgraded = true;
    }
    for (;;) {
      if (buffer.length < 2) return;
      const opcode = buffer[0] & 0x0f;
      let length = buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (buffer[1] & 0x80) !== 0;
      const maskAt = offset;
      if (masked) offset += 4;
      if (buffer.length < offset + length) return;
      const payload = Buffer.from(buffer.subarray(offset, offset + length));
      if (masked) for (let i = 0; i < payload.length; i += 1) payload[i] ^= buffer[maskAt + (i % 4)];
      if (opcode === 1) capture.frames.push(payload.toString('utf8'));
      buffer = buffer.subarray(offset + length);
    }
  };
}

/** A byte relay on loopback in front of the hub that records what the agent sends; it can go away and come back. */
class Relay {
  readonly capture: Capture = { upgrades: [], frames: [] };
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: number) {}

  async listen(port = 0): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target, '127.0.0.1');
      this.sockets.add(client).add(upstream);
      const tap = tapClient(this.capture);
      client.on('data', (chunk: Buffer) => {
        tap(chunk);
        upstream.write(chunk);
      });
      upstream.pipe(client);
      const end = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Cuts every relayed connection and stops accepting: the agent is offline until `listen` again. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A fresh socket straight to the hub with the captured key; sends `frame` after the hub's hello; what came back. */
async function replay(
  wsUrl: string,
  authorization: string,
  frame: string,
): Promise<{ types: string[]; reject?: { code: string; message: string }; closeCode: number }> {
  const ws = new WebSocket(wsUrl, { headers: { authorization } });
  const frames: Array<{ type: string; payload: { code?: string; message?: string } }> = [];
  let helloSeen!: () => void;
  const hello = new Promise<void>((resolve) => (helloSeen = resolve));
  ws.on('message', (data: Buffer) => {
    const envelope = JSON.parse(data.toString('utf8')) as { type: string; payload: { code?: string; message?: string } };
    frames.push(envelope);
    if (envelope.type === 'hub.hello') helloSeen();
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with ${res.statusCode}`)));
    ws.once('error', reject);
  });
  await hello;
  ws.send(frame);
  const closeCode = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 15_000))]);
  ws.terminate();
  const reject = frames.find((f) => f.type === 'reject')?.payload as { code: string; message: string } | undefined;
  return { types: frames.map((f) => f.type), ...(reject ? { reject } : {}), closeCode };
}

describe('a captured agent.register frame is useless on any other connection', () => {
  let hub: RunningHub;
  let hubEnv: Record<string, string>;
  let dataDir: string;
  let home: string;
  let agent: AgentProcess | undefined;
  let relay: Relay;
  let adminKey: string;
  const agentName = 'replay-target';
  const user = agentUser();

  const rest = async <T>(pathname: string): Promise<T> => {
    const response = await fetch(`${hub.url}${pathname}`, { headers: { authorization: `Bearer ${adminKey}` } });
    return (await response.json()) as T;
  };
  const agentStatus = async (): Promise<string | undefined> =>
    (await rest<Array<{ name: string; status: string }>>('/api/v1/agents')).find((a) => a.name === agentName)?.status;
  const waitStatus = async (want: (status: string | undefined) => boolean, what: string, timeoutMs = 30_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!want(await agentStatus())) {
      if (Date.now() > deadline) throw new Error(`agent not ${what} within ${timeoutMs} ms:\n${agent?.output().slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sonde-replay-hub-'));
    hubEnv = {
      SONDE_SECRET: randomBytes(32).toString('base64'),
      SONDE_DB_PATH: path.join(dataDir, 'sonde.db'),
      SONDE_ADMIN_USER: 'admin',
      SONDE_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
      SONDE_PORT: '0',
      SONDE_HOST: '127.0.0.1',
      SONDE_HEARTBEAT_MS: '1000',
      SONDE_LOG_LEVEL: 'info',
    };
    hub = await startHubProcess(hubEnv);
    const cli = async (args: string[]): Promise<Record<string, unknown>> => {
      const result = await runHubCli([...args, '--json'], hubEnv);
      if (result.code !== 0) throw new Error(`sonde-hub ${args.join(' ')}: ${result.stdout}${result.stderr}`);
      return JSON.parse(result.stdout) as Record<string, unknown>;
    };
    adminKey = (await cli(['keys', 'create', '--name', 'replay-admin', '--role', 'admin'])).rawKey as string;
    relay = new Relay(hub.port);
    await relay.listen();
    const relayUrl = `http://127.0.0.1:${relay.port}`;
    const token = (await cli(['tokens', 'create', '--name', agentName, '--hub-url', relayUrl])).token as string;
    home = trustedAgentHome(user, 'sonde-replay-agent-');
    // Enrolled through the relay: the agent's hub URL is the relay's, so everything it sends passes the tap.
    json(await runAgentCli(['enroll', '--hub', relayUrl, '--token', token, '--name', agentName, '--json'], { home, user }));
    agent = spawnAgent({ home, user });
    await waitStatus((status) => status !== undefined && status !== 'offline', 'online');
  }, 120_000);

  afterAll(async () => {
    await agent?.stop();
    await relay?.cut();
    await hub?.stop();
    if (home) removeDir(home);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses the replayed frame with the stolen key, agent online or offline, audits it, and the real agent comes back', async () => {
    // What the tap captured: the agent's key (upgrade header) and its signed registration, bound to that connection.
    const upgrade = relay.capture.upgrades.find((text) => text.startsWith('GET /ws/agent'));
    const authorization = /^authorization: (.+)$/im.exec(upgrade ?? '')?.[1];
    expect(authorization, 'the agent key in the captured upgrade').toMatch(/^Bearer sonde_/);
    const registerFrame = relay.capture.frames.find((frame) => (JSON.parse(frame) as { type: string }).type === 'agent.register');
    expect(registerFrame, 'a captured agent.register').toBeDefined();
    const captured = JSON.parse(registerFrame!) as { ts: number; payload: { challenge?: { nonce: string; hubUrl: string } } };
    expect(captured.payload.challenge?.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(captured.payload.challenge?.hubUrl).toBe(`ws://127.0.0.1:${relay.port}`);
    const wsUrl = `${hub.url.replace(/^http/, 'ws')}/ws/agent`;

    // 1. The agent is online: the replay on a new socket is refused for its nonce (not merely as a second connection).
    const whileOnline = await replay(wsUrl, authorization!, registerFrame!);
    expect(whileOnline.types).toEqual(['hub.hello', 'reject']);
    expect(whileOnline.reject?.code).toBe('SONDE_ERR_CHALLENGE_MISMATCH');
    expect(whileOnline.closeCode).toBe(1008);

    // 2. The agent is offline (its path cut): this is where the replay used to take the identity over.
    await relay.cut();
    await waitStatus((status) => status === 'offline', 'offline');
    const whileOffline = await replay(wsUrl, authorization!, registerFrame!);
    expect(whileOffline.reject?.code).toBe('SONDE_ERR_CHALLENGE_MISMATCH');
    expect(whileOffline.types).not.toContain('hub.registered');
    expect(await agentStatus()).toBe('offline');
    // Both replays ran inside the frame's replay window: the nonce refused them, not the clock.
    expect(Date.now() - captured.ts).toBeLessThan(60_000);

    // Each refusal is in the audit chain, naming the code and the source.
    const audit = await rest<{ entries: Array<{ action: string; status: string; detail: string | null; agents: string[] }> }>(
      '/api/v1/audit?limit=200',
    );
    const refused = audit.entries.filter((entry) => entry.action === 'agent.register_refused');
    expect(refused).toHaveLength(2);
    for (const entry of refused) {
      expect(entry.status).toBe('denied');
      expect(entry.agents).toEqual([agentName]);
      expect(entry.detail).toContain('SONDE_ERR_CHALLENGE_MISMATCH from 127.0.0.1');
    }
    expect(audit.entries.filter((entry) => entry.action === 'agent.connect' && entry.agents.includes(agentName))).toHaveLength(1);

    // 3. The real agent still connects: its path comes back, it answers a new hello with a new nonce.
    const framesBefore = relay.capture.frames.length;
    await relay.listen(relay.port);
    await waitStatus((status) => status !== undefined && status !== 'offline', 'back online', 60_000);
    const again = relay.capture.frames
      .slice(framesBefore)
      .map((frame) => JSON.parse(frame) as { type: string; payload: { challenge?: { nonce: string } } })
      .find((frame) => frame.type === 'agent.register');
    expect(again?.payload.challenge?.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(again?.payload.challenge?.nonce).not.toBe(captured.payload.challenge?.nonce);
  }, 120_000);
});
