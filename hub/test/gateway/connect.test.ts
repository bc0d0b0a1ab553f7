import { PROTOCOL_VERSION } from '@sonde/pack-sdk/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.js';
import { openSocket, SimAgent } from './support/sim-agent.js';

let hub: TestHub;
beforeEach(async () => {
  hub = await startTestHub({ agents: 2 });
});
afterEach(async () => {
  await hub.close();
});

describe('/ws/agent authentication before the upgrade', () => {
  it('an agent key opens the socket and registration answers hub.registered, signed by the hub', async () => {
    const agent = await hub.enroll('web-01');
    const sim = await SimAgent.connect(hub, agent);
    const answer = await sim.register();
    expect(answer.type).toBe('hub.registered');
    expect(answer.payload).toEqual({ agentId: agent.id, heartbeatIntervalMs: 1000, hubVersion: '0.1.0-test' });
    // SimAgent decodes with the CA public key and expectAgentId: the frame verified.
    expect(answer.envelope.agentId).toBe(agent.id);

    const view = hub.gateway.fleet.get('web-01');
    expect(view).toMatchObject({ id: agent.id, status: 'online', connected: true, agentVersion: '0.1.0', isolation: 'test', reasons: [] });
    expect(view?.packs.map((pack) => pack.name)).toEqual(['system']);
    expect(view?.os).toContain('debian 12');
    const record = (await hub.store.agents.getById(agent.id))!;
    expect(record.attestationBaseline?.agentCodeSha256).toBe('a'.repeat(64));
    expect(record.lastSeenAt).not.toBeNull();
    expect((await hub.store.apiKeys.getById(agent.keyId))?.lastUsedAt).not.toBeNull();
    expect(hub.audit.actions()).toEqual(['agent.attestation.baseline', 'agent.connect']);
    expect(hub.audit.entries.at(-1)).toMatchObject({
      actor: { kind: 'agent', id: agent.id, name: 'web-01' },
      agents: ['web-01'],
      status: 'ok',
    });
    sim.close();
  });

  const refusals: Array<[string, (hub: TestHub) => Promise<string | null> | string | null]> = [
    ['no credentials', () => null],
    ['a wrong key', () => 'Bearer sonde_agent_not-a-real-key'],
    ['a malformed header', async (h) => `Basic ${(await h.enroll('x1')).apiKey}`],
    ['a user-type (admin) key', async (h) => `Bearer ${await h.userKey()}`],
    [
      'a revoked agent key',
      async (h) => {
        const agent = await h.enroll('revoked-01');
        await h.store.apiKeys.revoke(agent.keyId, new Date().toISOString());
        return `Bearer ${agent.apiKey}`;
      },
    ],
    [
      'the key of a removed agent',
      async (h) => {
        const agent = await h.enroll('removed-01');
        await h.store.agents.remove(agent.id, new Date().toISOString());
        return `Bearer ${agent.apiKey}`;
      },
    ],
  ];
  for (const [what, authorization] of refusals) {
    it(`refuses ${what} with 401 and no upgrade, storing nothing`, async () => {
      const header = await authorization(hub);
      const before = await hub.store.agents.list();
      const outcome = await openSocket(hub, { authorization: header });
      expect(outcome).toMatchObject({ status: 401 });
      expect(JSON.parse((outcome as { body: string }).body)).toEqual({
        error: { code: 'SONDE_ERR_UNAUTHORIZED', message: 'agent authentication required' },
      });
      expect(await hub.store.agents.list()).toEqual(before);
      expect(hub.audit.entries).toEqual([]);
      expect(hub.gateway.fleet.list().every((view) => !view.connected)).toBe(true);
      expect(hub.logs.some((line) => line.msg === 'agent connection refused before upgrade')).toBe(true);
    });
  }

  it('answers 404 on other upgrade paths', async () => {
    const agent = await hub.enroll('web-01');
    const outcome = await openSocket({ ...hub, wsUrl: hub.wsUrl.replace('/ws/agent', '/ws/other') }, { apiKey: agent.apiKey });
    expect(outcome).toMatchObject({ status: 404 });
  });
});

describe('registration rules', () => {
  it('the first frame must be agent.register', async () => {
    const agent = await hub.enroll('web-01');
    const sim = await SimAgent.connect(hub, agent);
    const reject = sim.next('reject');
    sim.send('agent.heartbeat', { uptimeS: 1, running: 0, rssBytes: 1 });
    expect((await reject).payload).toMatchObject({ code: 'SONDE_ERR_NOT_REGISTERED' });
    expect((await sim.closed).code).toBe(1008);
    expect(hub.gateway.fleet.get('web-01')?.status).toBe('offline');
  });

  it('refuses another protocol version, naming both, and closes', async () => {
    const agent = await hub.enroll('web-01');
    const sim = await SimAgent.connect(hub, agent);
    const answer = await sim.register({ protocolVersion: PROTOCOL_VERSION + 1 });
    expect(answer.type).toBe('reject');
    expect(answer.payload).toMatchObject({ code: 'SONDE_ERR_PROTOCOL_VERSION' });
    expect((answer.payload as { message: string }).message).toContain(`protocol ${PROTOCOL_VERSION + 1}`);
    expect((answer.payload as { message: string }).message).toContain(`protocol ${PROTOCOL_VERSION}`);
    expect((await sim.closed).code).toBe(4426);
  });

  it('refuses a registration that names another agent (impersonation)', async () => {
    const agent = await hub.enroll('web-01');
    await hub.enroll('db-01');
    const sim = await SimAgent.connect(hub, agent);
    const answer = await sim.register({ name: 'db-01' });
    expect(answer.payload).toMatchObject({ code: 'SONDE_ERR_AGENT_MISMATCH' });
    expect((await sim.closed).code).toBe(1008);
    expect(hub.audit.entries.map((entry) => [entry.action, entry.status])).toEqual([['agent.impersonation', 'denied']]);
    expect(hub.gateway.fleet.get('db-01')?.status).toBe('offline');
  });

  it('the hub speaks first: a signed hub.hello with a fresh nonce for every connection', async () => {
    const agent = await hub.enroll('web-01');
    const first = await SimAgent.connect(hub, agent);
    const second = await SimAgent.connect(hub, agent);
    const [a, b] = [await first.hello, await second.hello];
    expect(a.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(b.nonce).not.toBe(a.nonce);
    expect(a.hubVersion).toBe('0.1.0-test');
    first.close();
    second.close();
  });

  it('refuses, audits and closes a registration without the challenge (an agent older than the hub)', async () => {
    const agent = await hub.enroll('web-01');
    const sim = await SimAgent.connect(hub, agent);
    const answer = await sim.register({ challenge: undefined });
    expect(answer.payload).toMatchObject({ code: 'SONDE_ERR_CHALLENGE_MISSING' });
    expect((answer.payload as { message: string }).message).toContain('upgrade');
    expect((await sim.closed).code).toBe(4426);
    expect(hub.audit.entries.map((entry) => [entry.action, entry.status])).toEqual([['agent.register_refused', 'denied']]);
    expect(hub.audit.entries[0]?.detail).toContain('SONDE_ERR_CHALLENGE_MISSING');
    expect(hub.gateway.fleet.get('web-01')?.status).toBe('offline');
  });

  it('refuses a registration signed for another connection (its nonce) or for another hub (its URL)', async () => {
    const agent = await hub.enroll('web-01');
    const elsewhere = await SimAgent.connect(hub, agent);
    const otherNonce = (await elsewhere.hello).nonce;
    elsewhere.close();
    const replayed = await SimAgent.connect(hub, agent);
    const answer = await replayed.register({ challenge: { nonce: otherNonce, hubUrl: hub.wsUrl } });
    expect(answer.payload).toMatchObject({ code: 'SONDE_ERR_CHALLENGE_MISMATCH' });
    expect((await replayed.closed).code).toBe(1008);

    // The right nonce, relayed from a connection the agent made to another server: that server's name is signed.
    for (const hubUrl of ['wss://evil.example', 'wss://evil.example:443', 'not a url']) {
      const relayed = await SimAgent.connect(hub, agent);
      const nonce = (await relayed.hello).nonce;
      const refused = await relayed.register({ challenge: { nonce, hubUrl } });
      expect(refused.payload, hubUrl).toMatchObject({ code: 'SONDE_ERR_CHALLENGE_MISMATCH' });
    }
    expect(hub.audit.entries.filter((entry) => entry.action === 'agent.register_refused')).toHaveLength(4);
    expect(hub.gateway.fleet.get('web-01')?.status).toBe('offline');

    // The same agent, bound to its own connection under a name of the hub: admitted.
    const honest = await SimAgent.connect(hub, agent);
    const nonce = (await honest.hello).nonce;
    const ok = await honest.register({ challenge: { nonce, hubUrl: hub.wsUrl.replace('127.0.0.1', 'localhost') } });
    expect(ok.type).toBe('hub.registered');
    honest.close();
  });

  it('closes a connection that never registers', async () => {
    await hub.close();
    hub = await startTestHub({ registerTimeoutMs: 300, agents: 2 });
    const agent = await hub.enroll('web-01');
    const sim = await SimAgent.connect(hub, agent);
    const closed = await sim.closed;
    expect(closed.code).toBe(4408);
    expect(sim.received[0]?.payload).toMatchObject({ code: 'SONDE_ERR_REGISTER_TIMEOUT' });
  });
});
