import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startHubProcess, runCli as runHubCli, type RunningHub } from '../../../hub/test/process.js';
import {
  agentUser,
  json,
  removeDir,
  runCli as runAgentCli,
  spawnAgent,
  agentHome as trustedAgentHome,
  signedPackCopies,
  type AgentProcess,
  type AgentUser,
} from '../../../agent/test/support/cli.js';

export const REPO = path.resolve(import.meta.dirname, '../../..');

/**
 * A real deployment in miniature: `sonde-hub serve` on a temp SQLite file and
 * a real `sonde` agent running as the unprivileged `sonde` user, enrolled with
 * a token from the hub CLI, with real packs installed and approved. They meet
 * only over HTTP and the agent WebSocket, exactly as in production.
 */
export interface Stack {
  hub: RunningHub;
  hubEnv: Record<string, string>;
  agent: AgentProcess;
  agentName: string;
  agentHome: string;
  user: AgentUser | undefined;
  adminKey: string;
  createKey(args: string[]): Promise<string>;
  rest<T = unknown>(pathname: string, init?: RequestInit & { key?: string }): Promise<{ status: number; body: T }>;
  waitForAgentOnline(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startStack(options: { packs: string[]; agentName?: string; hubEnv?: Record<string, string> }): Promise<Stack> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sonde-e2e-hub-'));
  const hubEnv: Record<string, string> = {
    SONDE_SECRET: randomBytes(32).toString('base64'),
    SONDE_DB_PATH: path.join(dataDir, 'sonde.db'),
    SONDE_ADMIN_USER: 'admin',
    SONDE_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
    SONDE_PORT: '0',
    SONDE_HOST: '127.0.0.1',
    SONDE_HEARTBEAT_MS: '1000',
    SONDE_LOG_LEVEL: 'info',
    ...options.hubEnv,
  };
  const hub = await startHubProcess(hubEnv);
  const cli = async (args: string[]): Promise<Record<string, unknown>> => {
    const result = await runHubCli([...args, '--json'], hubEnv);
    if (result.code !== 0) throw new Error(`sonde-hub ${args.join(' ')} exited ${result.code}: ${result.stdout}${result.stderr}`);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };
  const createKey = async (args: string[]): Promise<string> => (await cli(['keys', 'create', ...args])).rawKey as string;
  const adminKey = await createKey(['--name', 'e2e-admin', '--role', 'admin']);
  const agentName = options.agentName ?? 'e2e-agent';
  const token = (await cli(['tokens', 'create', '--name', agentName, '--hub-url', hub.url])).token as string;

  const user = agentUser();
  const agentHome = trustedAgentHome(user, 'sonde-e2e-agent-');
  const enrolled = await runAgentCli(['enroll', '--hub', hub.url, '--token', token, '--name', agentName, '--json'], {
    home: agentHome,
    user,
  });
  json(enrolled);
  const packDirs = options.packs.map((name) => path.join(REPO, 'packs', name));
  const installed = await runAgentCli(['packs', 'install', ...(await signedPackCopies(packDirs, user)), '--json'], {
    home: agentHome,
    user,
  });
  if (installed.code !== 0) throw new Error(`packs install failed: ${installed.stdout}${installed.stderr}`);
  const approved = await runAgentCli(['packs', 'approve', ...options.packs, '--json'], { home: agentHome, user });
  if (approved.code !== 0) throw new Error(`packs approve failed: ${approved.stdout}${approved.stderr}`);
  const agent = spawnAgent({ home: agentHome, user });

  const rest = async <T>(pathname: string, init: RequestInit & { key?: string } = {}): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${hub.url}${pathname}`, {
      ...init,
      headers: {
        authorization: `Bearer ${init.key ?? adminKey}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };

  return {
    hub,
    hubEnv,
    agent,
    agentName,
    agentHome,
    user,
    adminKey,
    createKey,
    rest,
    async waitForAgentOnline(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { body: agents } = await rest<Array<{ name: string; status: string }>>('/api/v1/agents');
        if (agents.some((a) => a.name === agentName && a.status !== 'offline')) return;
        if (Date.now() > deadline) throw new Error(`agent ${agentName} not online: ${JSON.stringify(agents)}\n${agent.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      await agent.stop();
      await hub.stop();
      removeDir(agentHome);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
