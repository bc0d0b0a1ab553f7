import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentUser, ensureBuilt, removeDir, runCli, spawnAgent, tempDirFor, type AgentProcess } from './support/cli.js';
import { startTestHub, type TestHub } from './support/hub-double.js';

const user = agentUser();
let hubA: TestHub;
let hubB: TestHub;
let home: string;
let agent: AgentProcess;

/**
 * Several hubs of one deployment (same CA, same enrolled agents): the agent enrolled with hub A and lists
 * hub B in `hubUrls`. It follows a draining hub's reconnect hint to the other hub, and moves on when a hub dies.
 */
beforeAll(async () => {
  ensureBuilt();
  hubA = await startTestHub({ heartbeatIntervalMs: 1000 });
  hubB = await startTestHub({ heartbeatIntervalMs: 1000, from: hubA });
  home = tempDirFor(user);
  const enrolled = await runCli(['enroll', '--hub', hubA.baseUrl, '--token', hubA.createToken(), '--name', 'failover-agent', '--json'], {
    home,
    user,
  });
  expect(enrolled.code, enrolled.stdout + enrolled.stderr).toBe(0);
  const configFile = path.join(home, 'config.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(configFile, JSON.stringify({ ...config, hubUrls: [hubB.baseUrl], reconnect: { initialMs: 200, maxMs: 2000 } }));
  agent = spawnAgent({ home, user });
  await hubA.waitForRegistered();
});

afterAll(async () => {
  await agent?.stop();
  await hubA?.close();
  await hubB?.close();
  if (home) removeDir(home);
});

describe('an agent with several hub URLs', () => {
  it('announces that it understands hub.drain', () => {
    expect(hubA.live()!.features.split(/,\s*/)).toContain('drain');
  });

  it('follows a draining hub’s reconnect delay to the next hub', async () => {
    const record = hubA.live()!;
    hubA.send(record, 'hub.drain', { reconnectInMs: 321, reason: 'hub shutting down' });
    record.socket.close(1012, 'hub shutting down: reconnect elsewhere');
    await agent.waitForOutput(/reconnecting in 321 ms \(as the draining hub asked\)/);
    const onB = await hubB.waitForRegistered(1, 10_000);
    expect(onB.agentId).toBe(record.agentId);
    expect((await hubB.probe('system.info')).payload.requestId).toBeTruthy();
  });

  it('moves back to the first hub when the second dies', async () => {
    const before = hubA.connections.filter((c) => c.registered).length;
    await hubB.close();
    await hubA.waitForRegistered(before + 1, 15_000);
    expect(agent.output()).toMatch(/hub connection closed; reconnecting in \d+ ms/);
  });
});
