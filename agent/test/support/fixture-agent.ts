import path from 'node:path';
import {
  agentHome,
  agentUser,
  ensureBuilt,
  json,
  prepareFixturePack,
  removeDir,
  runCli,
  spawnAgent,
  type AgentProcess,
  type AgentUser,
  type CliResult,
} from './cli.js';
import { startTestHub, type TestHub, type TestHubOptions } from './hub-double.js';

/** A real agent (as the unprivileged user when root) enrolled to the hub double, the fixture pack approved, registered. */
export interface FixtureAgent {
  hub: TestHub;
  user: AgentUser | undefined;
  home: string;
  fixture: string;
  agent: AgentProcess;
  agentId: string;
  stop(): Promise<void>;
}

export async function startFixtureAgent(name: string, hubOptions: TestHubOptions = {}): Promise<FixtureAgent> {
  ensureBuilt();
  const user = agentUser();
  const hub = await startTestHub(hubOptions);
  const home = agentHome(user);
  let fixture: string | undefined;
  let agent: AgentProcess | undefined;
  // Whatever fails on the way, what was started is stopped before the error reaches the test (it gets no handle to stop).
  const stop = async (): Promise<void> => {
    await agent?.stop();
    await hub.close();
    removeDir(home);
    if (fixture) removeDir(path.dirname(fixture));
  };
  try {
    fixture = await prepareFixturePack(user);
    const cli = async (args: string[]): Promise<CliResult> => {
      const result = await runCli(args, { home, user });
      if (result.code !== 0) throw new Error(`sonde ${args.join(' ')} exited ${result.code}: ${result.stdout}${result.stderr}`);
      return result;
    };
    const enrolled = await cli(['enroll', '--hub', hub.baseUrl, '--token', hub.createToken(), '--name', name, '--json']);
    const agentId = json<{ agentId: string }>(enrolled).agentId;
    await cli(['packs', 'install', fixture, '--json']);
    await cli(['packs', 'approve', 'fixture', '--json']);
    agent = spawnAgent({ home, user });
    await hub.waitForRegistered();
    return { hub, user, home, fixture, agent, agentId, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
