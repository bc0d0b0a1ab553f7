import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agentUser,
  ensureBuilt,
  json,
  prepareFixturePack,
  REPO,
  removeDir,
  runCli,
  spawnAgent,
  agentHome,
  type AgentProcess,
  spawnRealHub,
} from './support/cli.js';
import { precondition } from '../../test/support/preconditions.js';

/**
 * The agent against the real hub process (`node hub/dist/cli.js serve`): enroll
 * with a token from the hub CLI, register, and answer a probe dispatched through
 * the hub's REST API. Skipped, with the reason recorded, when the hub is not built.
 */
const HUB_CLI = path.join(REPO, 'hub/dist/cli.js');
const hubBuilt = precondition(import.meta.url, 'hub-built', existsSync(HUB_CLI), 'hub/dist/cli.js is missing (run `npm run build`)');
const user = agentUser();
let hubDir: string;
let hubEnv: Record<string, string>;
let hub: ChildProcess | undefined;
let hubUrl: string;
let adminKey: string;
let home: string;
let fixture: string;
let agent: AgentProcess | undefined;

function hubCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [HUB_CLI, ...args], { env: hubEnv, cwd: REPO, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function api(method: string, route: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${hubUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${adminKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

describe.skipIf(!hubBuilt.holds)('against the real hub', () => {
  // Inside the describe: when it is skipped, nothing is started.
  beforeAll(async () => {
    ensureBuilt();
    hubDir = mkdtempSync(path.join(os.tmpdir(), 'sonde-realhub-'));
    hubEnv = {
      PATH: process.env.PATH ?? '',
      SONDE_SECRET: 'agent-test-secret-0123456789-abcdefghijkl',
      SONDE_DB_PATH: path.join(hubDir, 'sonde.db'),
      SONDE_ADMIN_USER: 'admin',
      SONDE_ADMIN_PASSWORD: 'correct-horse-battery',
      SONDE_PORT: '0',
      // Long enough that a loaded machine does not miss two heartbeats and mark the agent offline mid-test.
      SONDE_HEARTBEAT_MS: '5000',
      SONDE_LOG_LEVEL: 'info',
    };
    const started = await spawnRealHub(hubEnv);
    hub = started.child;
    const port = started.port;
    hubUrl = `http://127.0.0.1:${port}`;
    hubEnv.SONDE_PORT = String(port);
    adminKey = (
      JSON.parse((await hubCli(['keys', 'create', '--name', 'agent-test', '--role', 'admin', '--json'])).stdout) as { rawKey: string }
    ).rawKey;
    home = agentHome(user);
    fixture = await prepareFixturePack(user);
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    if (hub && hub.exitCode === null) {
      hub.kill('SIGTERM');
      await new Promise((resolve) => hub!.once('exit', resolve));
    }
    if (hubDir) rmSync(hubDir, { recursive: true, force: true });
    if (home) removeDir(home);
    if (fixture) removeDir(path.dirname(fixture));
  });

  it('enrolls, registers and answers a probe dispatched through the hub REST API', async () => {
    const created = await hubCli(['tokens', 'create', '--name', 'real-hub-agent', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const token = (JSON.parse(created.stdout) as { token: string }).token;
    const enrolled = await runCli(['enroll', '--hub', hubUrl, '--token', token, '--name', 'real-hub-agent', '--json'], { home, user });
    expect(enrolled.code, enrolled.stdout + enrolled.stderr).toBe(0);
    await runCli(['packs', 'install', fixture], { home, user });
    await runCli(['packs', 'approve', 'fixture'], { home, user });
    agent = spawnAgent({ home, user });
    await agent.waitForOutput(/registered with hub/, 20_000);
    // The hub's own view, not the agent's log line: dispatch once the hub lists the agent online.
    await expect
      .poll(
        async () =>
          ((await api('GET', '/api/v1/agents')).body as Array<{ name: string; status: string }>).find((a) => a.name === 'real-hub-agent')
            ?.status,
        {
          timeout: 20_000,
          interval: 100,
        },
      )
      .toBe('online');

    const result = await api('POST', '/api/v1/probes', { agent: 'real-hub-agent', probe: 'fixture.secrets', params: {} });
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(result.body).toMatchObject({ status: 'ok' });
    expect(JSON.stringify(result.body)).not.toContain('hunter2');

    const status = json<{ registered: boolean }>(await runCli(['status', '--json'], { home, user }));
    expect(status.registered).toBe(true);
  });
});
