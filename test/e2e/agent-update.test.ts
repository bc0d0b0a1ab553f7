import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { publicPart, readKeyFile, replaceTarFile, signReleaseTarball } from '@sonde/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli as runAgentCli } from '../../agent/test/support/cli.js';
import { agentRelease } from './support/agent-release.js';
import { startStack, type Stack } from './support/stack.js';
import { startRegistry, type Registry } from './support/verdaccio.js';

/**
 * `sonde update` for real: agent releases made by scripts/release-agent.mjs
 * (the real agent, every dependency bundled and signed; built once per checkout
 * content, support/agent-release.ts), published to a local
 * npm registry, found there by a real unprivileged agent enrolled to a real
 * hub, verified, installed beside the running version and switched to; the
 * restarted agent reports the new version to the hub. A release the hub's
 * revocation list names and a release that fails its start-up check are
 * refused, and the running version stays current.
 */
let registry: Registry;
let stack: Stack;
let work: string;
let keyFile: string;
let pubFile: string;
let good: string;
let updated: ChildProcess | undefined;

/** `base` as release `version`, with `files` replaced, signed again with the release key (what a maintainer could publish). */
async function variant(base: string, version: string, files: Record<string, string> = {}): Promise<string> {
  const pkg = JSON.parse(execFileSync('tar', ['-xzOf', base, 'package/package.json'], { encoding: 'utf8' })) as { version: string };
  pkg.version = version;
  let tarball = replaceTarFile(readFileSync(base), 'package.json', Buffer.from(JSON.stringify(pkg, null, 2)), new Date());
  for (const [file, content] of Object.entries(files)) tarball = replaceTarFile(tarball, file, Buffer.from(content), new Date());
  const out = path.join(work, `sonde-agent-${version}.tgz`);
  writeFileSync(out, tarball);
  await signReleaseTarball(out, await readKeyFile(keyFile));
  return out;
}

const sonde = (args: string[]) => runAgentCli(args, { home: stack.agentHome, user: stack.user });

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'sonde-agent-release-e2e-'));
  chmodSync(work, 0o755);
  // A release built the way a maintainer builds one (while the registry and the stack start: npm's work beside theirs);
  // 0.1.2 (revoked below) is the same code re-versioned and re-signed.
  // Each is kept as soon as it is up, and all are awaited before a failure is raised: afterAll stops whatever started.
  const started = await Promise.allSettled([
    agentRelease('0.1.1').then((release) => ({ tarball: good, keyFile } = release)),
    startRegistry().then((value) => (registry = value)),
    startStack({ packs: ['system'], agentName: 'update-1' }).then((value) => (stack = value)),
  ]);
  for (const result of started) if (result.status === 'rejected') throw result.reason;
  pubFile = path.join(work, 'release.pub.json');
  writeFileSync(pubFile, JSON.stringify(publicPart(await readKeyFile(keyFile))));
  chmodSync(pubFile, 0o644);
  await registry.publish(good);
  await registry.publish(await variant(good, '0.1.2'));
  // The operator's set-up on the agent host: the release key trusted for @sonde/agent only, the registry in ~/.npmrc.
  const trusted = await sonde(['trust', 'add-key', pubFile, '--allow', '@sonde/agent', '--json']);
  expect(trusted.code, trusted.stderr + trusted.stdout).toBe(0);
  const npmrc = path.join(stack.agentHome, '.npmrc');
  writeFileSync(npmrc, `registry=${registry.url}\n`);
  if (stack.user) chownSync(npmrc, stack.user.uid, stack.user.gid);
  await stack.waitForAgentOnline();
}, 600_000);

afterAll(async () => {
  // The updated agent writes into its home until it has stopped: only then can the home be removed.
  if (updated && updated.exitCode === null && updated.signalCode === null) {
    const exited = new Promise((resolve) => updated?.once('exit', resolve));
    updated.kill('SIGTERM');
    await exited;
  }
  await stack?.stop();
  await registry?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function agentVersion(): Promise<{ version: string | null; status: string }> {
  const { body } = await stack.rest<Array<{ name: string; agentVersion: string | null; status: string }>>('/api/v1/agents');
  const agent = body.find((candidate) => candidate.name === stack.agentName);
  return { version: agent?.agentVersion ?? null, status: agent?.status ?? 'missing' };
}

describe('sonde update from a registry, end to end', () => {
  it('finds the signed bundled release, switches to it, and the restarted agent reports it to the hub', async () => {
    expect(await agentVersion()).toMatchObject({ version: '0.1.0' });
    const result = await sonde(['update', '0.1.1', '--restart', '--json']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const body = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(body).toMatchObject({ ok: true, action: 'updated', from: '0.1.0', to: '0.1.1', dependencies: 'bundled' });
    expect(body.restarted).toBeGreaterThan(0);
    await new Promise<void>((resolve) => {
      if (stack.agent.child.exitCode !== null) return resolve();
      stack.agent.child.once('exit', () => resolve());
    });

    // What the service manager does next: start releases/current (the unit's ExecStart points there).
    const current = path.join(stack.agentHome, 'releases', 'current');
    expect(path.basename(readlinkSync(current))).toBe('0.1.1');
    updated = spawn(process.execPath, [path.join(current, 'bin/sonde.js'), 'start', '--json-logs'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: stack.agentHome, SONDE_HOME: stack.agentHome },
      cwd: stack.agentHome,
      uid: stack.user?.uid,
      gid: stack.user?.gid,
      stdio: 'ignore',
    });
    const deadline = Date.now() + 30_000;
    let seen = await agentVersion();
    while (!(seen.version === '0.1.1' && seen.status !== 'offline') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      seen = await agentVersion();
    }
    expect(seen).toMatchObject({ version: '0.1.1' });
    expect(seen.status).not.toBe('offline');
  }, 180_000);

  it('refuses a release the hub revoked, and one that fails its start-up check; current stays', async () => {
    const revoke = await stack.rest('/api/v1/revocations', {
      method: 'POST',
      body: JSON.stringify({ packs: [{ pack: '@sonde/agent', versions: '0.1.2', reason: 'bad build' }] }),
    });
    expect(revoke.status).toBe(200);
    // The hub pushes the list to the connected agent, which keeps it in SONDE_HOME/revocations.json.
    const deadline = Date.now() + 15_000;
    const listFile = path.join(stack.agentHome, 'revocations.json');
    while (!safeRead(listFile).includes('0.1.2') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    const revoked = await sonde(['update', '0.1.2', '--json']);
    expect(revoked.code).toBe(9);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ ok: false, error: { code: 'SONDE_ERR_UPDATE_REFUSED' } });
    expect(revoked.stdout).toMatch(/revoked/i);

    // A release whose program cannot start: signed correctly, refused by the health check run before the switch.
    await registry.publish(
      await variant(good, '0.1.3', {
        'dist/cli.js': "console.error('boom'); process.exit(70);\n",
      }),
    );
    const failed = await sonde(['update', '0.1.3', '--json']);
    expect(failed.code).toBe(9);
    expect(JSON.parse(failed.stdout)).toMatchObject({ ok: false });
    expect(path.basename(readlinkSync(path.join(stack.agentHome, 'releases', 'current')))).toBe('0.1.1');
  }, 180_000);
});

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
