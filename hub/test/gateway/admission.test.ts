import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PLACES_PER_CALLER, REGISTER_FRAME_MS } from '../../src/gateway/admission.js';
import { startTestHub, type EnrolledAgent, type TestHub } from './support/hub.js';
import { openSocket, SimAgent } from './support/sim-agent.js';

let hub: TestHub;
afterEach(async () => {
  await hub.close();
});

/** One upgrade attempt: the HTTP answer (status, Retry-After, body) when it is refused, 'open' when it is upgraded. */
function attempt(apiKey?: string): Promise<'open' | { status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(hub.wsUrl, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} });
    ws.once('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'], body }));
    });
    ws.once('error', reject);
  });
}

describe('agent admission (SONDE_AGENT_ADMISSION_MAX)', () => {
  it('beyond the cap of unregistered sockets an upgrade gets 503 + Retry-After, before its credentials are looked at', async () => {
    hub = await startTestHub({ agents: 3, admissionMax: 2 });
    const [a, b, c] = [await hub.enroll('adm-a'), await hub.enroll('adm-b'), await hub.enroll('adm-c')];
    const simA = await SimAgent.connect(hub, a);
    const simB = await SimAgent.connect(hub, b);
    expect(hub.gateway.admission()).toEqual({ limit: 2, pending: 2, refused: 0, callerRefused: 0 });

    const refused = await attempt(c.apiKey);
    expect(refused).toMatchObject({ status: 503 });
    if (refused === 'open') throw new Error('unreachable');
    // Whole seconds to its slot in the queue (at least 1, at most the agent's longest backoff).
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'SONDE_ERR_HUB_BUSY' } });
    // Cheap: a peer with no credentials (or a bad key) is refused the same way, nothing about it is looked up.
    expect(await attempt(`sonde_agent_${randomBytes(8).toString('hex')}`)).toMatchObject({ status: 503 });
    expect(hub.gateway.admission()).toMatchObject({ pending: 2, refused: 2 });
    // Load shedding is not an access decision: nothing audited.
    expect(hub.audit.actions()).toEqual([]);

    // A registration frees its place; the next agent comes in.
    expect((await simA.register()).type).toBe('hub.registered');
    expect(hub.gateway.admission().pending).toBe(1);
    const simC = await SimAgent.connect(hub, c);
    expect(hub.gateway.admission().pending).toBe(2);
    // A socket that goes away unregistered frees its place too, and so does a refused credential.
    simB.close();
    await expect.poll(() => hub.gateway.admission().pending, { timeout: 5_000 }).toBe(1);
    expect(await attempt('sonde_agent_not-a-real-key')).toMatchObject({ status: 401 });
    await expect.poll(() => hub.gateway.admission().pending, { timeout: 5_000 }).toBe(1);
    expect((await simC.register()).type).toBe('hub.registered');
    expect(hub.gateway.admission()).toEqual({ limit: 2, pending: 0, refused: 2, callerRefused: 0 });
    expect(hub.logs.some((line) => /agent admission full/.test(line.msg))).toBe(true);
    simA.close();
    simC.close();
  });
});

/** `count` upgrades at once; the upgraded sockets (never registering) and the refusals' status and code. */
async function flood(
  count: number,
  options: Parameters<typeof openSocket>[1] | ((index: number) => Parameters<typeof openSocket>[1]),
): Promise<{ open: WebSocket[]; refused: Array<{ status: number; code: string }> }> {
  const answers = await Promise.all(
    Array.from({ length: count }, (_, index) => openSocket(hub, typeof options === 'function' ? options(index) : options)),
  );
  const open = answers.filter((answer): answer is WebSocket => answer instanceof WebSocket);
  for (const ws of open) ws.on('error', () => undefined);
  const refused = answers.flatMap((answer) =>
    answer instanceof WebSocket
      ? []
      : [{ status: answer.status, code: (JSON.parse(answer.body) as { error: { code: string } }).error.code }],
  );
  return { open, refused };
}

/** Security review of issue 25: one caller must not be able to take every admission place. */
describe('agent admission: a fair share per caller', () => {
  it('one agent key opening 50 sockets that never register holds 2 places; a second agent registers at once', async () => {
    hub = await startTestHub({ agents: 3, admissionMax: 20 });
    const hostile = await hub.enroll('hostile');
    const honest = await hub.enroll('honest');

    const { open, refused } = await flood(50, { apiKey: hostile.apiKey });
    expect(open).toHaveLength(PLACES_PER_CALLER);
    expect(refused).toEqual(Array(50 - PLACES_PER_CALLER).fill({ status: 429, code: 'SONDE_ERR_ADMISSION_SHARE' }));
    const answer = await attempt(hostile.apiKey);
    expect(answer).toMatchObject({ status: 429, retryAfter: String(REGISTER_FRAME_MS / 1000) });
    // Without a key nothing holds a place: refused 401 at once (their source address shares one share while in flight).
    const anonymous = await flood(50, { authorization: null });
    expect(anonymous.open).toEqual([]);
    expect(anonymous.refused.every((r) => r.status === 401 || r.status === 429)).toBe(true);
    // An invented key is a caller of its own, but holds its place only while it is looked up.
    const invented = await flood(15, () => ({ apiKey: `sonde_agent_${randomBytes(8).toString('hex')}` }));
    expect(invented.refused).toEqual(Array(15).fill({ status: 401, code: 'SONDE_ERR_UNAUTHORIZED' }));
    await expect.poll(() => hub.gateway.admission().pending, { timeout: 5_000 }).toBe(PLACES_PER_CALLER);

    // The honest agent is admitted and registers without waiting for the hostile sockets to time out.
    const sim = await SimAgent.connect(hub, honest);
    expect((await sim.register()).type).toBe('hub.registered');
    expect(hub.gateway.admission()).toMatchObject({ limit: 20, pending: PLACES_PER_CALLER, refused: 0 });
    expect(hub.gateway.admission().callerRefused).toBeGreaterThanOrEqual(50 - PLACES_PER_CALLER + 1);
    // Shed, not access decisions: nothing of the flood is audited (the 401s have no refusal limiter on this test hub).
    expect(hub.audit.actions()).toEqual(['agent.attestation.baseline', 'agent.connect']);
    expect(hub.logs.some((line) => /answered 429/.test(line.msg))).toBe(true);
    for (const ws of open) ws.terminate();
    sim.close();
  });

  it("over mTLS: one certificate holds 2 places, and the same agent's key adds none after the lookup", async () => {
    hub = await startTestHub({ agents: 3, admissionMax: 20, tls: true });
    const hostile = await hub.enroll('hostile-tls');
    const honest = await hub.enroll('honest-tls');
    const certOf = (agent: EnrolledAgent) => ({ certPem: agent.certPem, keyPem: agent.tlsKeyPem ?? agent.privateKeyPem });

    const byCert = await flood(10, { authorization: null, cert: certOf(hostile) });
    expect(byCert.open).toHaveLength(PLACES_PER_CALLER);
    expect(byCert.refused).toEqual(Array(10 - PLACES_PER_CALLER).fill({ status: 429, code: 'SONDE_ERR_ADMISSION_SHARE' }));
    // The key is another caller before the lookup, the same agent after it.
    const byKey = await flood(5, { apiKey: hostile.apiKey });
    expect(byKey.open).toHaveLength(0);
    expect(byKey.refused).toEqual(Array(5).fill({ status: 429, code: 'SONDE_ERR_ADMISSION_SHARE' }));
    await expect.poll(() => hub.gateway.admission().pending, { timeout: 5_000 }).toBe(PLACES_PER_CALLER);

    const sim = await SimAgent.connect(hub, honest, { authorization: null, cert: certOf(honest) });
    expect((await sim.register()).type).toBe('hub.registered');
    expect(hub.audit.actions()).toEqual(['agent.attestation.baseline', 'agent.connect']);
    for (const ws of byCert.open) ws.terminate();
    sim.close();
  });

  it(`a socket that never sends agent.register gives its place back after ${REGISTER_FRAME_MS} ms, not the whole registration deadline`, async () => {
    // The default registration deadline (10 s) and heartbeat: only the register window may close this socket first.
    hub = await startTestHub({ agents: 2, admissionMax: 20, heartbeatMs: 15_000 });
    const silent = await SimAgent.connect(hub, await hub.enroll('silent'));
    expect(hub.gateway.admission().pending).toBe(1);
    const closed = await silent.closed;
    expect(closed).toEqual({ code: 4408, reason: `no agent.register within ${REGISTER_FRAME_MS} ms of hub.hello` });
    expect(silent.received[0]?.payload).toMatchObject({ code: 'SONDE_ERR_REGISTER_TIMEOUT' });
    expect(hub.gateway.admission().pending).toBe(0);
  }, 20_000);
});
