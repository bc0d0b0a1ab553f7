import { randomUUID, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMessage, type Envelope } from '@sonde/pack-sdk/protocol';
import { json, runCli, type AgentProcess, type AgentUser } from './support/cli.js';
import { listeningSockets, socketCount } from './support/sockets.js';
import { type TestHub } from './support/hub-double.js';
import { startFixtureAgent, type FixtureAgent } from './support/fixture-agent.js';

let setup: FixtureAgent;
let hub: TestHub;
let home: string;
let user: AgentUser | undefined;
let agent: AgentProcess;
let agentId: string;

beforeAll(async () => {
  setup = await startFixtureAgent('frames-agent', { heartbeatIntervalMs: 1000 });
  ({ hub, home, user, agent, agentId } = setup);
});

afterAll(async () => {
  await setup?.stop();
});

function probeRequest(now?: () => number, who = agentId): string {
  return hub.frame(
    'hub.probe.request',
    { requestId: randomUUID(), probe: 'fixture.echo', params: { text: 'forged' }, timeoutMs: 5000 },
    who,
    now,
  );
}

async function expectRejected(frame: string, code: string): Promise<void> {
  const record = hub.live()!;
  const before = record.received.filter((m) => m.type === 'agent.security').length;
  record.socket.send(frame);
  const event = await hub.waitFor(
    () =>
      record.received
        .filter((m) => m.type === 'agent.security')
        .slice(before)
        .find((m) => m.type === 'agent.security' && m.payload.detail.startsWith(code)),
    // Generous: on a loaded shared machine the agent can take seconds to be scheduled; success returns at once.
    15_000,
    `agent.security for ${code}`,
  );
  expect(event.type).toBe('agent.security');
  await agent.waitForOutput(new RegExp(`rejected hub message: ${code}`));
}

describe('hub messages the agent must refuse', () => {
  it('rejects a tampered message (payload changed after signing) and never runs it', async () => {
    const envelope = JSON.parse(probeRequest()) as Envelope & { payload: { params: { text: string } } };
    envelope.payload.params.text = 'tampered';
    await expectRejected(JSON.stringify(envelope), 'SONDE_ERR_BAD_SIGNATURE');
  });

  it('rejects an unsigned message', async () => {
    const envelope = JSON.parse(probeRequest()) as Envelope;
    delete envelope.sig;
    await expectRejected(JSON.stringify(envelope), 'SONDE_ERR_UNSIGNED');
  });

  it('rejects a message signed by a key other than the hub CA', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = encodeMessage(
      'hub.probe.request',
      { requestId: randomUUID(), probe: 'fixture.echo', params: { text: 'x' }, timeoutMs: 5000 },
      { agentId, key: privateKey },
    );
    await expectRejected(forged, 'SONDE_ERR_BAD_SIGNATURE');
  });

  it('runs a message once and rejects its replay', async () => {
    const record = hub.live()!;
    const frame = probeRequest();
    const requestId = (JSON.parse(frame) as { payload: { requestId: string } }).payload.requestId;
    record.socket.send(frame);
    await hub.waitFor(
      () => record.received.find((m) => m.type === 'agent.probe.result' && m.payload.requestId === requestId),
      5000,
      'first run',
    );
    await expectRejected(frame, 'SONDE_ERR_REPLAYED');
    // A later request answered means the agent has dealt with everything before it: a run of the replay would be in by now.
    await hub.probe('fixture.echo', { text: 'after the replay' }, { record });
    expect(record.received.filter((m) => m.type === 'agent.probe.result' && m.payload.requestId === requestId)).toHaveLength(1);
  });

  it('rejects a stale message and one addressed to another agent', async () => {
    await expectRejected(
      probeRequest(() => Date.now() - 10 * 60_000),
      'SONDE_ERR_STALE',
    );
    await expectRejected(probeRequest(undefined, randomUUID()), 'SONDE_ERR_AGENT_MISMATCH');
    await expectRejected('this is not json', 'SONDE_ERR_BAD_FRAME');
  });

  it('counts rejected frames in sonde status and stays connected', async () => {
    type Status = { connected: boolean; rejectedFrames: number };
    const status = async (): Promise<Status> => json<Status>(await runCli(['status', '--json'], { home, user }));
    // The agent writes its status file shortly after a change: wait for the count, do not read it once.
    await expect.poll(async () => (await status()).rejectedFrames, { timeout: 15_000, interval: 200 }).toBeGreaterThanOrEqual(7);
    expect((await status()).connected).toBe(true);
    const reply = await hub.probe('fixture.echo', { text: 'still fine' });
    expect(reply.payload.status).toBe('ok');
  });

  it('has no listening sockets: its only socket is the outbound hub connection', async () => {
    // Control: the same check does see a listener in a process that has one.
    const { spawn } = await import('node:child_process');
    const listener = spawn(process.execPath, ['-e', "require('net').createServer().listen(0, '127.0.0.1', () => console.log('up'))"], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    await new Promise((resolve) => listener.stdout.once('data', resolve));
    expect(listeningSockets(listener.pid!)).toEqual([expect.stringMatching(/^tcp listen /)]);
    listener.kill();

    const pid = agent.child.pid!;
    expect(socketCount(pid)).toBeGreaterThanOrEqual(1);
    expect(listeningSockets(pid)).toEqual([]);
  });
});
