import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentUser, ensureBuilt, json, removeDir, runCli, spawnAgent, tempDirFor, type AgentProcess } from './support/cli.js';
import { startTestHub, type TestHub } from './support/hub-double.js';

const user = agentUser();
let hub: TestHub;
let home: string;
let agent: AgentProcess;

beforeAll(async () => {
  ensureBuilt();
  hub = await startTestHub({ heartbeatIntervalMs: 1000 });
  home = tempDirFor(user);
  const enrolled = await runCli(['enroll', '--hub', hub.baseUrl, '--token', hub.createToken(), '--name', 'reconnect-agent', '--json'], {
    home,
    user,
  });
  expect(enrolled.code, enrolled.stdout + enrolled.stderr).toBe(0);
  agent = spawnAgent({ home, user });
  await hub.waitForRegistered();
});

afterAll(async () => {
  await agent?.stop();
  await hub?.close();
  if (home) removeDir(home);
});

describe('liveness and reconnection', () => {
  it('sends heartbeats at the interval the hub names', async () => {
    const record = hub.live()!;
    await hub.waitFor(() => record.received.filter((m) => m.type === 'agent.heartbeat').length >= 2, 5000, 'two heartbeats');
  });

  it('detects a silent (half-open) hub within two intervals and reconnects with backoff', async () => {
    const first = hub.live()!;
    first.frozen = true; // no frames, no pongs: what a dead peer behind a NAT looks like
    const frozenAt = Date.now();
    await hub.waitFor(() => first.socket.readyState === first.socket.CLOSED, 6000, 'agent to drop the silent connection');
    const detectedMs = Date.now() - frozenAt;
    // Two 1 s intervals plus the checker's tick; well under three intervals.
    expect(detectedMs).toBeLessThan(3500);
    await hub.waitForRegistered(2, 5000);
    expect(agent.output()).toMatch(/hub is silent for two heartbeat intervals/);
    expect(agent.output()).toMatch(/reconnecting in \d+ ms/);
  });

  it('keeps retrying while the hub is down and registers again when it is back', async () => {
    const port = hub.port;
    await hub.close();
    const retries = (): number => (agent.output().match(/reconnecting in/g) ?? []).length;
    const before = retries();
    await agent.waitForOutput(/hub connection closed; reconnecting in \d+ ms/, 5000);
    // Retrying, not one attempt: at least two more while the hub stays down.
    await expect.poll(retries, { timeout: 15_000, interval: 100 }).toBeGreaterThanOrEqual(before + 2);
    // A hub reachable again on the same address gets the agent back without a restart.
    const again = await startTestHub({ heartbeatIntervalMs: 1000, port, from: hub });
    hub = again;
    await hub.waitForRegistered(1, 15_000);
    const status = json<{ registered: boolean }>(await runCli(['status', '--json'], { home, user }));
    expect(status.registered).toBe(true);
  });
});
