import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { agentHome, agentUser, ensureBuilt, REPO, removeDir, runCli, spawnAgent, type AgentProcess, spawnRealHub } from './support/cli.js';
import { precondition } from '../../test/support/preconditions.js';

/**
 * Issue 25: the real agent against the real hub process (`node hub/dist/cli.js serve`) with an admission limit of
 * one socket. A socket that upgrades and never registers holds the one place, so the agent's upgrades are answered
 * 503 + Retry-After; the agent must wait at least that long before each new attempt (the hub counts every refusal in
 * /metrics, so an attempt the agent did not log would show), and register once the place is free.
 */
const HUB_CLI = path.join(REPO, 'hub/dist/cli.js');
const hubBuilt = precondition(import.meta.url, 'hub-built', existsSync(HUB_CLI), 'hub/dist/cli.js is missing (run `npm run build`)');
const user = agentUser();
let hubDir: string;
let hubEnv: Record<string, string>;
let hub: ChildProcess | undefined;
let hubUrl: string;
let home: string;
let agent: AgentProcess | undefined;
let blocker: WebSocket | undefined;

function hubCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [HUB_CLI, ...args], { env: hubEnv, cwd: REPO, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function refusedTotal(): Promise<number> {
  const text = await (await fetch(`${hubUrl}/metrics`)).text();
  const match = /^sonde_agent_admission_refused_total (\d+)/m.exec(text);
  if (!match) throw new Error(`no sonde_agent_admission_refused_total in /metrics:\n${text.slice(0, 2000)}`);
  return Number(match[1]);
}

/** The agent's JSON log lines saying the hub answered 503, in order. */
function busyLines(): Array<{ time: number; retryAfterMs: number }> {
  return (agent?.output() ?? '')
    .split('\n')
    .filter((line) => line.includes('"retryAfterMs"') && line.includes('hub busy'))
    .map((line) => JSON.parse(line) as { time: number; retryAfterMs: number });
}

describe.skipIf(!hubBuilt.holds)('the agent against a hub at its admission limit', () => {
  beforeAll(async () => {
    ensureBuilt();
    hubDir = mkdtempSync(path.join(os.tmpdir(), 'sonde-admission-'));
    hubEnv = {
      PATH: process.env.PATH ?? '',
      SONDE_SECRET: 'agent-test-secret-0123456789-abcdefghijkl',
      SONDE_DB_PATH: path.join(hubDir, 'sonde.db'),
      SONDE_ADMIN_USER: 'admin',
      SONDE_ADMIN_PASSWORD: 'correct-horse-battery',
      SONDE_PORT: '0',
      SONDE_HEARTBEAT_MS: '5000',
      SONDE_LOG_LEVEL: 'info',
      SONDE_AGENT_ADMISSION_MAX: '1',
    };
    const started = await spawnRealHub(hubEnv);
    hub = started.child;
    const port = started.port;
    hubUrl = `http://127.0.0.1:${port}`;
    hubEnv.SONDE_PORT = String(port);
    home = agentHome(user);
  }, 60_000);

  afterAll(async () => {
    blocker?.terminate();
    await agent?.stop();
    if (hub && hub.exitCode === null) {
      hub.kill('SIGTERM');
      await new Promise((resolve) => hub!.once('exit', resolve));
    }
    if (hubDir) rmSync(hubDir, { recursive: true, force: true });
    if (home) removeDir(home);
  });

  it('waits at least Retry-After between refused upgrades, keeps its backoff, and registers once admitted', async () => {
    const created = await hubCli(['tokens', 'create', '--name', 'admission-agent', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const token = (JSON.parse(created.stdout) as { token: string }).token;
    const enrolled = await runCli(['enroll', '--hub', hubUrl, '--token', token, '--name', 'admission-agent', '--json'], { home, user });
    expect(enrolled.code, enrolled.stdout + enrolled.stderr).toBe(0);

    // The one place: an upgraded socket (the agent's own key) that never registers.
    const apiKey = readFileSync(path.join(home, 'agent.api-key'), 'utf8').trim();
    const held = new WebSocket(`${hubUrl.replace('http', 'ws')}/ws/agent`, { headers: { authorization: `Bearer ${apiKey}` } });
    blocker = held;
    await new Promise((resolve, reject) => {
      held.once('open', resolve);
      held.once('error', reject);
    });
    held.on('error', () => undefined);

    agent = spawnAgent({ home, user });
    // Two refusals in a row: the second attempt came after the first Retry-After, and was refused again.
    await expect.poll(() => busyLines().length, { timeout: 12_000, interval: 100 }).toBeGreaterThanOrEqual(2);
    held.terminate();
    await agent.waitForOutput(/registered with hub/, 15_000);

    const busy = busyLines();
    for (let i = 1; i < busy.length; i++) {
      // The 503 answer arrives within milliseconds of the attempt: the gap between answers is the agent's wait.
      expect(busy[i].time - busy[i - 1].time).toBeGreaterThanOrEqual(busy[i - 1].retryAfterMs);
    }
    for (const line of busy) expect(line.retryAfterMs).toBeGreaterThanOrEqual(1000);
    // Every refusal the hub counted is one the agent logged: no attempt slipped in before its delay.
    expect(await refusedTotal()).toBe(busy.length);
    // The reconnect line names the hub's ask, and waits at least that long.
    const reconnects = [...agent.output().matchAll(/reconnecting in (\d+) ms \(the hub asked for Retry-After (\d+) ms\)/g)];
    expect(reconnects.length).toBeGreaterThanOrEqual(2);
    for (const [, wait, asked] of reconnects) expect(Number(wait)).toBeGreaterThanOrEqual(Number(asked));
  });
});
