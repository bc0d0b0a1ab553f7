import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestHub, type TestHub } from './support/hub.js';
import { SimAgent } from './support/sim-agent.js';

let hub: TestHub;
beforeEach(async () => {
  hub = await startTestHub({ agents: 3, admissionMax: 2 });
});
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
    const [a, b, c] = [await hub.enroll('adm-a'), await hub.enroll('adm-b'), await hub.enroll('adm-c')];
    const simA = await SimAgent.connect(hub, a);
    const simB = await SimAgent.connect(hub, b);
    expect(hub.gateway.admission()).toEqual({ limit: 2, pending: 2, refused: 0 });

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
    expect(hub.gateway.admission()).toEqual({ limit: 2, pending: 0, refused: 2 });
    expect(hub.logs.some((line) => /agent admission full/.test(line.msg))).toBe(true);
    simA.close();
    simC.close();
  });
});
