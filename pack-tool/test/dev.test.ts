import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtPack, REPO, run, tool } from './support.js';

let system: Awaited<ReturnType<typeof builtPack>>;
beforeAll(async () => {
  system = await builtPack('system');
}, 120_000);
afterAll(() => system?.cleanup());

const SONDE = path.join(REPO, 'agent/bin/sonde.js');

/** The agent refuses root: as root the test runs its CLI as the `sonde` user, the way an author's unprivileged agent runs. */
function agentCli(): { sonde: string; home: string; cleanup: () => void } {
  const home = mkdtempSync(path.join(os.tmpdir(), 'sonde-dev-agent-'));
  chmodSync(home, 0o700);
  if (process.getuid?.() !== 0) return { sonde: `${process.execPath} ${SONDE}`, home, cleanup: () => rmSync(home, { recursive: true }) };
  try {
    execFileSync('id', ['sonde'], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', 'sonde']);
  }
  const uid = Number(execFileSync('id', ['-u', 'sonde'], { encoding: 'utf8' }));
  const gid = Number(execFileSync('id', ['-g', 'sonde'], { encoding: 'utf8' }));
  chownSync(home, uid, gid);
  return {
    sonde: `runuser -u sonde -- ${process.execPath} ${SONDE}`,
    home,
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
}

interface Cycle {
  ok: boolean;
  step: string;
  probes: Array<{ probe: string; ok: boolean; result: { name: string } }>;
  install?: { version: string; state: string };
}

async function agentPacks(agent: { sonde: string; home: string }): Promise<Array<{ name: string; version: string; state: string }>> {
  const [cmd, ...args] = agent.sonde.split(' ');
  const listed = await run(cmd, [...args, 'packs', 'list', '--json'], agent.home, { ...process.env, SONDE_HOME: agent.home });
  expect(listed.code, listed.stderr).toBe(0);
  return (JSON.parse(listed.stdout) as { packs: Array<{ name: string; version: string; state: string }> }).packs;
}

describe('sonde-pack dev', () => {
  it('--once builds, validates and runs every probe here, exit 0', async () => {
    const dir = system.copy('dev-once');
    const result = await tool(['dev', '--once', '--json'], dir);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const cycle = JSON.parse(result.stdout);
    expect(cycle).toMatchObject({ ok: true, step: 'done', build: { ok: true }, findings: [] });
    expect(cycle.probes).toEqual([expect.objectContaining({ probe: 'demo.os.info', ok: true, checks: 2 })]);
    const bad = await tool(['dev', '--once', '--probe', 'nope'], dir);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✖ nope: .*has no probe nope.*os\.info/);
    expect((await tool(['dev', '--sonde', 'sonde'], dir)).code).toBe(2);
  });

  it('watching: every save rebuilds, re-runs the probe with the new code and hot-installs a new dev version into a local agent', async () => {
    const dir = system.copy('dev-watch');
    const agent = agentCli();
    const config = mkdtempSync(path.join(os.tmpdir(), 'sonde-dev-config-'));
    const child = spawn(
      process.execPath,
      [path.join(REPO, 'pack-tool/bin/sonde-pack.js'), 'dev', '--json', '--agent-home', agent.home, '--sonde', agent.sonde],
      { cwd: dir, env: { ...process.env, XDG_CONFIG_HOME: config }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const cycles: Cycle[] = [];
    let stderr = '';
    let waiting: { count: number; resolve: () => void } | undefined;
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        cycles.push(JSON.parse(buffer.slice(0, nl)) as Cycle);
        buffer = buffer.slice(nl + 1);
      }
      if (waiting && cycles.length >= waiting.count) waiting.resolve();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const cycle = (count: number): Promise<Cycle> =>
      new Promise<void>((resolve, reject) => {
        if (cycles.length >= count) return resolve();
        waiting = { count, resolve };
        child.once('exit', (code) => reject(new Error(`sonde-pack dev exited ${code}: ${stderr}`)));
      }).then(() => cycles[count - 1]);
    const probeFile = path.join(dir, 'src/probe.ts');
    const original = readFileSync(probeFile, 'utf8');
    try {
      const first = await cycle(1);
      expect(first, stderr).toMatchObject({ ok: true, install: { state: 'active' } });
      expect(first.probes[0].result.name).not.toBe('edited in dev');

      // A compile error: reported, nothing installed, and the loop keeps watching.
      writeFileSync(probeFile, original.replace('return toOsInfo(', 'return toOsInfo(('));
      const broken = await cycle(2);
      expect(broken).toMatchObject({ ok: false, step: 'build', build: { ok: false } });

      writeFileSync(probeFile, original.replace(/return (toOsInfo\([^;]+\));/, "return { ...$1, name: 'edited in dev' };"));
      const fixed = await cycle(3);
      expect(fixed).toMatchObject({ ok: true, install: { state: 'active' } });
      expect(fixed.probes[0].result.name).toBe('edited in dev');
      expect(fixed.install?.version).not.toBe(first.install?.version);
      expect(await agentPacks(agent)).toEqual([
        expect.objectContaining({ name: 'demo', version: fixed.install?.version, state: 'active' }),
      ]);
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
      agent.cleanup();
      rmSync(config, { recursive: true, force: true });
    }
  }, 120_000);
});
