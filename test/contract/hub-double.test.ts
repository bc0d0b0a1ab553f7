import { createPrivateKey, createPublicKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  challengeHubUrl,
  decodeMessage,
  encodeMessage,
  EnrollResponseSchema,
  ReplayGuard,
  type DecodedMessage,
  type MessagePayload,
  type MessageType,
} from '@sonde/pack-sdk/protocol';
import { generateKeyAndCsr } from '../../agent/src/identity/csr.js';
import { startTestHub, type TestHub } from '../../agent/test/support/hub-double.js';
import { runCli as runHubCli, startHubProcess, type RunningHub } from '../../hub/test/process.js';

/**
 * The agent's protocol tests run against a double of the hub (agent/test/support/hub-double.ts, its own CA,
 * no database) because they need to send tampered frames and freeze connections. This contract keeps the
 * double honest: one scripted agent (the agent's own CSR code, pack-sdk's framing) talks to the double and
 * to the real hub process (`sonde-hub serve` on a temp SQLite file), and both must answer alike on the wire:
 * enrollment answers and refusals, the WebSocket upgrade, registration, a probe request, a replayed frame.
 */

interface Side {
  name: string;
  baseUrl: string;
  createToken(agentName: string): Promise<string>;
  /** Makes the hub send one probe request to the connected agent (the double directly, the real hub through REST). */
  requestProbe(agentName: string, probe: string): void;
  close(): Promise<void>;
}

async function doubleSide(): Promise<Side> {
  const hub: TestHub = await startTestHub({ heartbeatIntervalMs: 1000 });
  return {
    name: 'hub double',
    baseUrl: hub.baseUrl,
    createToken: (agentName) => Promise.resolve(hub.createToken({ name: agentName })),
    requestProbe: (_agentName, probe) => void hub.probe(probe, {}, { timeoutMs: 5000 }).catch(() => undefined),
    close: () => hub.close(),
  };
}

async function realSide(): Promise<Side> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-contract-hub-'));
  const env: Record<string, string> = {
    SONDE_SECRET: randomBytes(32).toString('base64'),
    SONDE_DB_PATH: path.join(dir, 'sonde.db'),
    SONDE_ADMIN_USER: 'admin',
    SONDE_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
    SONDE_PORT: '0',
    SONDE_HOST: '127.0.0.1',
    SONDE_HEARTBEAT_MS: '1000',
    SONDE_LOG_LEVEL: 'info',
  };
  let hub: RunningHub | undefined;
  try {
    hub = await startHubProcess(env);
    const cli = async (args: string[]): Promise<Record<string, unknown>> => {
      const result = await runHubCli([...args, '--json'], env);
      if (result.code !== 0) throw new Error(`sonde-hub ${args.join(' ')} exited ${result.code}: ${result.stdout}${result.stderr}`);
      return JSON.parse(result.stdout) as Record<string, unknown>;
    };
    const adminKey = (await cli(['keys', 'create', '--name', 'contract', '--role', 'admin'])).rawKey as string;
    const running = hub;
    return {
      name: 'real hub',
      baseUrl: running.url,
      createToken: async (agentName) => (await cli(['tokens', 'create', '--name', agentName, '--hub-url', running.url])).token as string,
      requestProbe: (agentName, probe) =>
        void fetch(`${running.url}/api/v1/probes`, {
          method: 'POST',
          headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ agent: agentName, probe, params: {} }),
        }).catch(() => undefined),
      close: async () => {
        await running.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function enroll(baseUrl: string, token: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}/api/v1/enroll`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json().catch(() => ({}))) as Record<string, unknown> };
}

const errorCode = (json: Record<string, unknown>): unknown => (json.error as { code?: unknown } | undefined)?.code;

/** The first frame the hub sends, or how the connection ended. */
function nextEvent(socket: WebSocket, timeoutMs = 10_000): Promise<{ frame?: string; closed?: number; timedOut?: true }> {
  return new Promise((resolve) => {
    const done = (value: { frame?: string; closed?: number; timedOut?: true }): void => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      socket.off('close', onClose);
      resolve(value);
    };
    const onMessage = (data: WebSocket.RawData): void => done({ frame: (data as Buffer).toString('utf8') });
    const onClose = (code: number): void => done({ closed: code });
    const timer = setTimeout(() => done({ timedOut: true }), timeoutMs);
    socket.on('message', onMessage);
    socket.on('close', onClose);
  });
}

function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => {
      resolve(101);
      socket.close();
    });
    socket.once('error', () => resolve(0));
  });
}

/** What one agent observes of a hub, reduced to what the agent depends on. */
async function transcript(side: Side): Promise<Record<string, unknown>> {
  const name = `contract-${randomBytes(3).toString('hex')}`;
  const seen: Record<string, unknown> = {};
  const { keyPem, csrPem } = generateKeyAndCsr(name);
  const key: KeyObject = createPrivateKey(keyPem);
  const body = { name, csrPem, agentVersion: '0.0.0-contract' };

  const unknownToken = await enroll(side.baseUrl, `enr_${randomBytes(16).toString('hex')}`, body);
  seen.unknownToken = { status: unknownToken.status, code: errorCode(unknownToken.json) };

  const token = await side.createToken(name);
  const badBody = await enroll(side.baseUrl, token, { name, csrPem: 'not a CSR' });
  seen.badBody = { status: badBody.status, code: errorCode(badBody.json) };

  const enrolled = await enroll(side.baseUrl, token, body);
  const answer = EnrollResponseSchema.safeParse(enrolled.json);
  expect(answer.success, `${side.name}: ${JSON.stringify(enrolled.json).slice(0, 500)}`).toBe(true);
  const identity = answer.data!;
  const ca = new X509Certificate(identity.caPem);
  const cert = new X509Certificate(identity.certPem);
  seen.enrolled = {
    status: enrolled.status,
    fields: Object.keys(enrolled.json).sort(),
    nameAsAsked: identity.name === name,
    certIssuedByCa: cert.checkIssued(ca) && cert.verify(ca.publicKey),
    certSubjectIsTheName: cert.subject === `CN=${name}`,
    certKeyIsTheCsrKey: cert.publicKey
      .export({ type: 'spki', format: 'der' })
      .equals(createPublicKey(key).export({ type: 'spki', format: 'der' })),
    wsPath: new URL(identity.wsUrl).pathname,
  };

  const reused = await enroll(side.baseUrl, token, body);
  seen.reusedToken = { status: reused.status, code: errorCode(reused.json) };

  seen.upgradeWithoutKey = await upgradeStatus(identity.wsUrl, {});
  seen.upgradeWithWrongKey = await upgradeStatus(identity.wsUrl, {
    authorization: `Bearer sonde_agent_${randomBytes(24).toString('hex')}`,
  });

  const socket = new WebSocket(identity.wsUrl, { headers: { authorization: `Bearer ${identity.apiKey}` } });
  // Listening before the socket opens: the hub speaks first.
  const firstFrame = new Promise<string>((resolve) =>
    socket.once('message', (data: WebSocket.RawData) => resolve((data as Buffer).toString('utf8'))),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const replay = new ReplayGuard();
    const fromHub = (frame: string): DecodedMessage => decodeMessage(frame, { key: ca.publicKey, replay, expectAgentId: identity.agentId });
    const frame = <T extends MessageType>(type: T, payload: MessagePayload<T>): string =>
      encodeMessage(type, payload, { agentId: identity.agentId, key });

    // The hub speaks first: a signed hub.hello whose nonce the registration must carry back.
    const helloFrame = await Promise.race([firstFrame, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 10_000))]);
    const hello = helloFrame ? fromHub(helloFrame) : undefined;
    seen.hello = { type: hello?.type ?? 'none', payloadFields: hello ? Object.keys(hello.payload).sort() : [] };
    const nonce = hello?.type === 'hub.hello' ? hello.payload.nonce : 'x'.repeat(43);
    const registration = {
      name,
      agentVersion: '0.0.0-contract',
      protocolVersion: 1,
      attestation: {
        os: { platform: 'linux', release: os.release(), version: '#1' },
        kernel: os.release(),
        arch: process.arch,
        nodeVersion: process.version,
        agentVersion: '0.0.0-contract',
        agentCodeSha256: 'a'.repeat(64),
        configSha256: 'b'.repeat(64),
        packs: [],
      },
      packs: [],
      maxConcurrency: 4,
    } satisfies MessagePayload<'agent.register'>;
    const register = frame('agent.register', { ...registration, challenge: { nonce, hubUrl: challengeHubUrl(identity.wsUrl) } });
    socket.send(register);
    const registered = await nextEvent(socket);
    const message = registered.frame ? fromHub(registered.frame) : undefined;
    seen.registered = {
      type: message?.type ?? registered,
      payloadFields: message ? Object.keys(message.payload).sort() : [],
      agentId: message?.type === 'hub.registered' ? message.payload.agentId === identity.agentId : false,
    };

    // The hub asks for a probe: the request must be a signed hub.probe.request the agent can decode.
    side.requestProbe(name, 'fixture.echo');
    let request: DecodedMessage | undefined;
    for (let i = 0; i < 5 && !request; i += 1) {
      const event = await nextEvent(socket);
      if (!event.frame) break;
      const decoded = fromHub(event.frame);
      if (decoded.type === 'hub.probe.request') request = decoded;
    }
    seen.probeRequest = request
      ? {
          type: request.type,
          payloadFields: Object.keys(request.payload).sort(),
          probe: request.type === 'hub.probe.request' && request.payload.probe,
        }
      : 'none';

    // A frame sent twice: the hub must refuse the replay (what it does next is part of the contract).
    socket.send(register);
    const afterReplay = await nextEvent(socket, 3000);
    const replayAnswer = afterReplay.frame ? fromHub(afterReplay.frame) : undefined;
    const registerId = (JSON.parse(register) as { id: string }).id;
    seen.replayedFrame =
      replayAnswer?.type === 'reject'
        ? {
            type: replayAnswer.type,
            code: replayAnswer.payload.code,
            message: replayAnswer.payload.message.replaceAll(registerId, '<id>'),
            refIdIsTheFrame: replayAnswer.payload.refId === registerId,
          }
        : (replayAnswer?.type ?? afterReplay);
  } finally {
    socket.terminate();
  }

  // A registration without the connection's challenge (an agent from before it, or a frame made for no connection).
  const unbound = new WebSocket(identity.wsUrl, { headers: { authorization: `Bearer ${identity.apiKey}` } });
  try {
    const frames: string[] = [];
    unbound.on('message', (data: WebSocket.RawData) => frames.push((data as Buffer).toString('utf8')));
    const closed = new Promise<number>((resolve) => unbound.once('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      unbound.once('open', () => resolve());
      unbound.once('error', reject);
    });
    unbound.send(
      encodeMessage(
        'agent.register',
        {
          name,
          agentVersion: '0.0.0-contract',
          protocolVersion: 1,
          attestation: {
            os: { platform: 'linux', release: os.release(), version: '#1' },
            kernel: os.release(),
            arch: process.arch,
            nodeVersion: process.version,
            agentVersion: '0.0.0-contract',
            agentCodeSha256: 'a'.repeat(64),
            configSha256: 'b'.repeat(64),
            packs: [],
          },
          packs: [],
          maxConcurrency: 4,
        },
        { agentId: identity.agentId, key },
      ),
    );
    const code = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 10_000))]);
    const replay = new ReplayGuard();
    const answers = frames.map((f) => decodeMessage(f, { key: ca.publicKey, replay, expectAgentId: identity.agentId }));
    const reject = answers.find((m) => m.type === 'reject');
    seen.unboundRegister = { closeCode: code, reject: reject?.type === 'reject' ? reject.payload.code : 'none' };
  } finally {
    unbound.terminate();
  }
  return seen;
}

describe('the agent tests’ hub double answers like the real hub', () => {
  let double: Side;
  let real: Side;
  beforeAll(async () => {
    // One after the other, each kept as soon as it runs: whatever fails, afterAll stops what started.
    double = await doubleSide();
    real = await realSide();
  }, 90_000);
  afterAll(async () => {
    await Promise.all([double?.close(), real?.close()]);
  });

  it('on enrollment, the agent WebSocket, its hello, registration (bound and unbound), a probe request and a replayed frame', async () => {
    const fromReal = await transcript(real);
    // The real hub's answers are the reference; they must be the complete exchange, not two empty transcripts.
    expect(fromReal).toMatchObject({
      enrolled: { status: 201, certIssuedByCa: true, certKeyIsTheCsrKey: true },
      hello: { type: 'hub.hello', payloadFields: ['hubVersion', 'nonce'] },
      unboundRegister: { closeCode: 4426, reject: 'SONDE_ERR_CHALLENGE_MISSING' },
      registered: { type: 'hub.registered', agentId: true },
      probeRequest: { type: 'hub.probe.request', probe: 'fixture.echo' },
    });
    const fromDouble = await transcript(double);
    expect(fromDouble).toEqual(fromReal);
  }, 90_000);
});
