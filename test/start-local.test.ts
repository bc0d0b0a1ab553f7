import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `npm start` keeps its state between runs. When the hub comes up on another
 * port (SONDE_PORT changed), an agent enrolled with the old URL would dial it
 * for ever: the script must enroll it again with the hub it just started.
 * SONDE_PORT=0 gives each run a new port, which is exactly that change.
 */
const REPO = path.resolve(import.meta.dirname, '..');
const state = mkdtempSync(path.join(os.tmpdir(), 'sonde-local-'));
chmodSync(state, 0o711);
const running: ChildProcess[] = [];

afterAll(async () => {
  await Promise.all(running.map(stop));
  rmSync(state, { recursive: true, force: true });
});

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Runs scripts/start-local.mjs until it has printed its agent line; returns everything it printed. */
function startLocal(): Promise<{ child: ChildProcess; out: string }> {
  const child = spawn(process.execPath, [path.join(REPO, 'scripts/start-local.mjs')], {
    cwd: REPO,
    env: { ...process.env, SONDE_PORT: '0', SONDE_LOCAL_STATE: state },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      out += chunk.toString('utf8');
      if (/MCP URL/.test(out)) resolve({ child, out });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`start-local exited with ${code}:\n${out}`)));
  });
}

describe('npm start with a changed hub port', () => {
  it('enrolls the agent again with the new hub URL, and it comes online there', { timeout: 240_000 }, async () => {
    const first = await startLocal();
    const firstHub = /hub\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(first.out)?.[1];
    expect(first.out, first.out).toMatch(/agent\s+\S+ (online|degraded) /);
    // The dashboard URL it prints serves the dashboard page from the same hub.
    const dashboard = /dashboard\s+(http:\/\/127\.0\.0\.1:\d+\/)\s/.exec(first.out)?.[1];
    expect(dashboard, first.out).toBe(`${firstHub}/`);
    const page = await fetch(dashboard!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<sonde-app>');
    await stop(first.child);

    const second = await startLocal();
    const secondHub = /hub\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(second.out)?.[1];
    expect(secondHub).not.toBe(firstHub);
    expect(second.out, second.out).toMatch(/agent\s+\S+ (online|degraded) /);
    expect(second.out).toContain(`was enrolled with ${firstHub}; enrolling it with ${secondHub}`);
    await stop(second.child);
  });
});
