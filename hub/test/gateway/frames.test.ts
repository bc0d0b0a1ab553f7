import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.js';
import { SimAgent } from './support/sim-agent.js';
import { waitFor } from './support/wait.js';

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub({ agents: 10 });
});
afterAll(async () => {
  await hub.close();
});

let counter = 0;
/** A registered agent with a fresh name, plus a second enrolled agent to impersonate. */
async function online(): Promise<{ sim: SimAgent; other: Awaited<ReturnType<TestHub['enroll']>> }> {
  counter += 1;
  const agent = await hub.enroll(`frames-${counter}`);
  const other = await hub.enroll(`victim-${counter}`);
  return { sim: await SimAgent.online(hub, agent), other };
}

const heartbeat = { uptimeS: 1, running: 0, rssBytes: 1 };

describe('every agent frame is verified and bound to the socket identity', () => {
  it('a message claiming another agent id is rejected and logged as impersonation', async () => {
    const { sim, other } = await online();
    const reject = sim.next('reject');
    // Signed correctly with this agent's own key, but claiming the other agent.
    sim.send('agent.packs', { packs: [] }, { agentId: other.id });
    expect((await reject).payload).toMatchObject({ code: 'SONDE_ERR_AGENT_MISMATCH' });
    expect(hub.logs.some((line) => line.level === 40 && line.msg.startsWith('impersonation attempt'))).toBe(true);
    expect(
      hub.audit.entries.find((entry) => entry.action === 'agent.impersonation' && entry.agents?.includes(sim.agent.name)),
    ).toMatchObject({
      status: 'denied',
    });
    // The victim is untouched.
    expect((await hub.store.agents.getById(other.id))?.packs).toEqual([]);
    sim.close();
  });

  it('a frame signed with another agent’s key does not verify', async () => {
    const { sim, other } = await online();
    const reject = sim.next('reject');
    sim.send('agent.heartbeat', heartbeat, { key: other.privateKeyPem });
    expect((await reject).payload).toMatchObject({ code: 'SONDE_ERR_BAD_SIGNATURE' });
    sim.close();
  });

  it('unsigned, tampered, replayed and stale frames are each rejected with their code', async () => {
    const { sim } = await online();
    const expectReject = async (frame: string, code: string): Promise<void> => {
      const reject = sim.next('reject');
      sim.sendRaw(frame);
      const message = await reject;
      expect(message.payload).toMatchObject({ code, refId: (JSON.parse(frame) as { id: string }).id });
    };
    const unsigned = JSON.parse(sim.frame('agent.heartbeat', heartbeat));
    delete unsigned.sig;
    await expectReject(JSON.stringify(unsigned), 'SONDE_ERR_UNSIGNED');

    const tampered = JSON.parse(sim.frame('agent.packs', { packs: [{ name: 'system', version: '1.0.0', state: 'active' }] }));
    tampered.payload.packs[0].name = 'evil';
    await expectReject(JSON.stringify(tampered), 'SONDE_ERR_BAD_SIGNATURE');

    const once = sim.send('agent.heartbeat', heartbeat);
    await expectReject(once, 'SONDE_ERR_REPLAYED');

    await expectReject(sim.frame('agent.heartbeat', heartbeat, { now: () => Date.now() - 5 * 60_000 }), 'SONDE_ERR_STALE');
    expect((await hub.store.agents.getById(sim.agent.id))?.packs.map((pack) => pack.name)).toEqual(['system']);
    // Four bad frames are tolerated; the connection still works.
    expect(sim.ws.readyState).toBe(sim.ws.OPEN);
    const fifth = sim.next('reject');
    sim.sendRaw('not json');
    expect((await fifth).payload).toMatchObject({ code: 'SONDE_ERR_BAD_FRAME' });
    expect((await sim.closed).code).toBe(1008);
  });

  it('the agent cannot send hub-only messages', async () => {
    const { sim } = await online();
    const reject = sim.next('reject');
    sim.send('hub.registered', { agentId: sim.agent.id, heartbeatIntervalMs: 1000, hubVersion: 'x' });
    expect((await reject).payload).toMatchObject({ code: 'SONDE_ERR_UNEXPECTED_MESSAGE' });
    sim.close();
  });

  it('a frame over 1 MiB closes the socket and is logged', async () => {
    const { sim } = await online();
    sim.sendRaw('x'.repeat(1024 * 1024 + 1));
    const closed = await sim.closed;
    expect(closed.code).toBe(1009);
    await waitFor(() => hub.gateway.fleet.get(sim.agent.name)?.status === 'offline', 'agent offline');
    expect(hub.logs.some((line) => line.msg === 'agent frame exceeds 1 MiB: connection closed')).toBe(true);
  });
});

describe('Ed25519 on the wire: the algorithm follows the enrolled key, never the frame', () => {
  it('an Ed25519 agent gets Ed25519 frames signed by the hub wire key; an RSA agent keeps CA-signed RSA frames', async () => {
    counter += 1;
    const ed = await SimAgent.online(hub, await hub.enroll(`ed-${counter}`, { wire: 'ed25519' }));
    const registered = ed.received.find((message) => message.type === 'hub.registered')!;
    expect(registered.envelope.alg).toBe('ed25519');
    const rsa = await SimAgent.online(hub, await hub.enroll(`rsa-${counter}`));
    // The pre-Ed25519 form: no alg field, verified with the CA key (SimAgent decodes with agent.hubKey).
    expect(rsa.received.find((message) => message.type === 'hub.registered')!.envelope.alg).toBeUndefined();
    ed.answerOk();
    rsa.answerOk();
    const [a, b] = await Promise.all([
      hub.gateway.dispatcher.dispatch({ agent: ed.agent.name, probe: 'system.ping', params: {} }),
      hub.gateway.dispatcher.dispatch({ agent: rsa.agent.name, probe: 'system.ping', params: {} }),
    ]);
    expect([a.status, b.status]).toEqual(['ok', 'ok']);
    ed.close();
    rsa.close();
  });

  it('refuses a downgraded frame, a frame signed with the wrong key and a replayed one from an Ed25519 agent', async () => {
    counter += 1;
    const agent = await hub.enroll(`ed-bad-${counter}`, { wire: 'ed25519' });
    const stranger = await hub.enroll(`ed-stranger-${counter}`, { wire: 'ed25519' });
    const sim = await SimAgent.online(hub, agent);
    const expectReject = async (frame: string, code: string, message?: RegExp): Promise<void> => {
      const reject = sim.next('reject');
      sim.sendRaw(frame);
      const payload = (await reject).payload as { code: string; message: string };
      expect(payload.code).toBe(code);
      if (message) expect(payload.message).toMatch(message);
    };
    // Signed correctly with the agent's own certificate (RSA) key: a valid RSA frame, but this agent is bound to Ed25519.
    await expectReject(
      sim.frame('agent.heartbeat', heartbeat, { key: agent.tlsKeyPem! }),
      'SONDE_ERR_BAD_SIGNATURE',
      /rsa-sha256.*ed25519/,
    );
    const claimsRsa = JSON.parse(sim.frame('agent.heartbeat', heartbeat));
    claimsRsa.alg = 'rsa-sha256';
    await expectReject(JSON.stringify(claimsRsa), 'SONDE_ERR_BAD_SIGNATURE');
    await expectReject(sim.frame('agent.heartbeat', heartbeat, { key: stranger.privateKeyPem }), 'SONDE_ERR_BAD_SIGNATURE');
    const once = sim.send('agent.heartbeat', heartbeat);
    await expectReject(once, 'SONDE_ERR_REPLAYED');
    // The fifth bad frame closes the connection: the refusals above were not tolerated by accident.
    expect(sim.ws.readyState).toBe(sim.ws.OPEN);
    sim.sendRaw('not json');
    expect((await sim.closed).code).toBe(1008);
  });
});
