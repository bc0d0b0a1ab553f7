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
