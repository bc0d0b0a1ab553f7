import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { signPackDir } from '@sonde/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TEST_PUBLISHER,
  agentHome,
  agentUser,
  ensureBuilt,
  json,
  prepareFixturePack,
  removeDir,
  runCli,
  spawnAgent,
  type AgentProcess,
} from './support/cli.js';
import { startTestHub, type TestHub } from './support/hub-double.js';

/**
 * A pack that is approved and verifies but whose process cannot start: the
 * running agent reports it failed (status.json, the hub); `sonde packs list`
 * used to read only the store and call it active. Both must say failed.
 */
const user = agentUser();
let hub: TestHub;
let home: string;
let fixture: string;
let agent: AgentProcess | undefined;

interface Pack {
  name: string;
  state: string;
  reason?: string;
}

beforeAll(async () => {
  ensureBuilt();
  hub = await startTestHub({ heartbeatIntervalMs: 1000 });
  home = agentHome(user);
  fixture = await prepareFixturePack(user);
  // Signed and approvable, but its code throws as soon as the pack process imports it.
  writeFileSync(path.join(fixture, 'index.js'), "throw new Error('this pack cannot load');\n", { mode: 0o644 });
  await signPackDir(fixture, TEST_PUBLISHER);
  const enrolled = await runCli(['enroll', '--hub', hub.baseUrl, '--token', hub.createToken(), '--name', 'state-agent', '--json'], {
    home,
    user,
  });
  expect(enrolled.code, enrolled.stderr).toBe(0);
  expect((await runCli(['packs', 'install', fixture, '--json'], { home, user })).code).toBe(0);
  expect((await runCli(['packs', 'approve', 'fixture', '--json'], { home, user })).code).toBe(0);
});

afterAll(async () => {
  await agent?.stop();
  await hub?.close();
  if (home) removeDir(home);
  if (fixture) removeDir(path.dirname(fixture));
});

async function statusPack(): Promise<Pack | undefined> {
  const status = json<{ packs: Pack[] }>(await runCli(['status', '--json'], { home, user }));
  return status.packs.find((pack) => pack.name === 'fixture');
}

describe('one runtime state for a pack', () => {
  it('lists a pack whose process failed to start as failed, as sonde status does', { timeout: 90_000 }, async () => {
    agent = spawnAgent({ home, user });
    await hub.waitForRegistered(1);
    let reported: Pack | undefined;
    for (let tries = 0; tries < 300 && reported?.state !== 'failed'; tries++) {
      reported = await statusPack();
      if (reported?.state !== 'failed') await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(reported).toMatchObject({ state: 'failed', reason: expect.stringContaining('this pack cannot load') });
    const list = json<{ packs: Pack[] }>(await runCli(['packs', 'list', '--json'], { home, user }));
    expect(list.packs.find((pack) => pack.name === 'fixture')).toMatchObject({ state: 'failed', reason: reported!.reason });
    const text = await runCli(['packs', 'list'], { home, user });
    expect(text.stdout).toMatch(/^fixture 1\.0\.0 failed \(/m);

    // Stopped, the agent no longer speaks for the pack: the store's view is all there is.
    await agent.stop();
    agent = undefined;
    const stopped = json<{ packs: Pack[] }>(await runCli(['packs', 'list', '--json'], { home, user }));
    expect(stopped.packs.find((pack) => pack.name === 'fixture')?.state).toBe('active');
  });
});
