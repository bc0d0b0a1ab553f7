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
let agent: AgentProcess | undefined;
let blockers: WebSocket[] = [];
let homes: string[] = [];

function hubCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [HUB_CLI, ...args], { env: hubEnv, cwd: REPO, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${hubUrl}/metrics`)).text();
  const match = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
  if (!match) throw new Error(`no ${name} in /metrics:\n${text.slice(0, 2000)}`);
  return Number(match[1]);
}
const refusedTotal = (): Promise<number> => metric('sonde_agent_admission_refused_total');

/** Starts the real hub with `env` on top of the common settings (SONDE_PORT becomes the port it listens on). */
async function startHub(env: Record<string, string>): Promise<void> {
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
    ...env,
  };
  const started = await spawnRealHub(hubEnv);
  hub = started.child;
  hubUrl = `http://127.0.0.1:${started.port}`;
  hubEnv.SONDE_PORT = String(started.port);
}

async function stopAll(): Promise<void> {
  for (const ws of blockers) ws.terminate();
  blockers = [];
  await agent?.stop();
  agent = undefined;
  if (hub && hub.exitCode === null) {
    hub.kill('SIGTERM');
    await new Promise((resolve) => hub!.once('exit', resolve));
  }
  if (hubDir) rmSync(hubDir, { recursive: true, force: true });
  for (const dir of homes) removeDir(dir);
  homes = [];
}

/** A fresh agent home enrolled with the running hub under `name`. */
async function enrollAgent(name: string): Promise<string> {
  const dir = agentHome(user);
  homes.push(dir);
  const created = await hubCli(['tokens', 'create', '--name', name, '--json']);
  expect(created.code, created.stderr).toBe(0);
  const token = (JSON.parse(created.stdout) as { token: string }).token;
  const enrolled = await runCli(['enroll', '--hub', hubUrl, '--token', token, '--name', name, '--json'], { home: dir, user });
  expect(enrolled.code, enrolled.stdout + enrolled.stderr).toBe(0);
  return dir;
}

/** Opens an agent socket with `apiKey`: the upgraded socket (it never registers), or the refusal's status. */
function upgrade(apiKey: string): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${hubUrl.replace('http', 'ws')}/ws/agent`, { headers: { authorization: `Bearer ${apiKey}` } });
    ws.once('open', () => {
      ws.on('error', () => undefined);
      resolve(ws);
    });
    ws.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', reject);
  });
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
    await startHub({ SONDE_AGENT_ADMISSION_MAX: '1' });
  }, 60_000);

  afterAll(stopAll);

  it('waits at least Retry-After between refused upgrades, keeps its backoff, and registers once admitted', async () => {
    const home = await enrollAgent('admission-agent');

    // The one place: an upgraded socket (the agent's own key) that never registers. The hub closes such a socket after
    // 5 s (REGISTER_FRAME_MS), so the place is handed to a fresh one right after each refusal the agent logs (it then
    // waits at least Retry-After, 1 s or more, before its next attempt) and before the held one is 4 s old.
    const apiKey = readFileSync(path.join(home, 'agent.api-key'), 'utf8').trim();
    const takePlace = async (): Promise<void> => {
      for (const ws of blockers) ws.terminate();
      const held = await upgrade(apiKey);
      if (!(held instanceof WebSocket)) throw new Error(`the blocker was refused with HTTP ${held}`);
      blockers = [held];
      takenAt = Date.now();
    };
    let takenAt = 0;
    let seen = 0;
    await takePlace();

    agent = spawnAgent({ home, user });
    // Two refusals in a row: the second attempt came after the first Retry-After, and was refused again.
    await expect
      .poll(
        async () => {
          const refusals = busyLines().length;
          if (refusals > seen || Date.now() - takenAt > 4_000) await takePlace();
          seen = refusals;
          return refusals;
        },
        { timeout: 20_000, interval: 100 },
      )
      .toBeGreaterThanOrEqual(2);
    for (const ws of blockers) ws.terminate();
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
  }, 90_000);
});

/**
 * Security review of issue 25: one agent's credential (stolen, or an agent in a loop) opening 50 sockets that never
 * register must not lock the rest of the fleet out: it holds its share of 2 places, the other 48 are answered 429
 * before any lookup, and the real agent registers at its first attempt.
 */
describe.skipIf(!hubBuilt.holds)('the agent beside a caller flooding the hub with unregistered sockets', () => {
  beforeAll(async () => {
    ensureBuilt();
    await startHub({ SONDE_AGENT_ADMISSION_MAX: '20' });
  }, 60_000);

  afterAll(stopAll);

  it('one key holds 2 places, the other 48 upgrades get 429 (counted in /metrics, not audited), and another agent registers at once', async () => {
    const hostileHome = await enrollAgent('hostile-agent');
    const home = await enrollAgent('honest-agent');
    const hostileKey = readFileSync(path.join(hostileHome, 'agent.api-key'), 'utf8').trim();

    const answers = await Promise.all(Array.from({ length: 50 }, () => upgrade(hostileKey)));
    blockers = answers.filter((answer): answer is WebSocket => answer instanceof WebSocket);
    expect(blockers).toHaveLength(2);
    expect(answers.filter((answer) => answer === 429)).toHaveLength(48);
    expect(await metric('sonde_agent_admission_caller_refused_total')).toBe(48);
    expect(await metric('sonde_agent_admission_pending')).toBe(2);

    agent = spawnAgent({ home, user });
    await agent.waitForOutput(/registered with hub/, 15_000);
    // At its first attempt: the hub refused none of its upgrades.
    expect(busyLines()).toEqual([]);
    expect(await refusedTotal()).toBe(0);

    // Load shedding is not audited per attempt: no entry names a refused upgrade.
    const key = await hubCli(['keys', 'create', '--name', 'audit-reader', '--role', 'admin', '--json']);
    expect(key.code, key.stderr).toBe(0);
    const adminKey = (JSON.parse(key.stdout) as { rawKey: string }).rawKey;
    const page = (await (await fetch(`${hubUrl}/api/v1/audit?limit=200`, { headers: { authorization: `Bearer ${adminKey}` } })).json()) as {
      entries: Array<{ action: string }>;
    };
    expect(page.entries.filter((entry) => entry.action === 'access.refused')).toEqual([]);
    expect(page.entries.filter((entry) => entry.action === 'agent.connect')).toHaveLength(1);
  }, 120_000);
});
