import { execFile, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { createRevocationList, newKeyFile, publicPart, signReleaseTarball, type KeyFile, type TrustStoreInput } from '@sonde/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRing, verifyAuditChain } from '../src/audit/ring.js';
import { AgentErrors } from '../src/errors.js';
import { homePaths } from '../src/home.js';
import { replayUpdateAudit } from '../src/self-update/audit.js';
import { writeStatus } from '../src/runtime/status-file.js';
import { agentUser, ensureBuilt, json, removeDir, runCli, tempDirFor, type CliResult } from './support/cli.js';

/**
 * `sonde update` end to end with the real built CLI, run as the unprivileged
 * agent user: real tarballs made by `npm pack` from a small fake @sonde/agent,
 * signed with the registry library, handed to the agent as local paths (or a
 * `file:` spec, so the agent's own `npm pack` runs without any registry).
 */
const run = promisify(execFile);
const user = agentUser();
const releaseKey = newKeyFile({ publisher: 'sonde' });
const revokedKey = newKeyFile({ publisher: 'sonde' });
const strangerKey = newKeyFile({ publisher: 'sonde' });
const hubKey = newKeyFile();
let home: string;
let work: string;

function own(target: string): void {
  if (!user) return;
  chownSync(target, user.uid, user.gid);
}

type Health = 'ok' | 'self-test-fails' | 'wrong-version';

/** A fake agent package: `--version` and `update --self-test --json` like the real one, nothing else. */
interface ReleaseOptions {
  health?: Health;
  key?: KeyFile;
  tamper?: boolean;
  /** Production dependencies: `{ dep: 'file:/abs/dep.tgz' }`; the program imports each and prints its version. */
  dependencies?: Record<string, string>;
  /** Ship them inside the tarball (bundleDependencies, signed) instead of letting npm install them. */
  bundle?: boolean;
}

async function release(version: string, options: ReleaseOptions = {}): Promise<string> {
  const health = options.health ?? 'ok';
  const src = path.join(work, `src-${version}-${health}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(path.join(src, 'dist'), { recursive: true });
  const deps = Object.keys(options.dependencies ?? {});
  writeFileSync(
    path.join(src, 'package.json'),
    JSON.stringify({
      name: '@sonde/agent',
      version,
      type: 'module',
      bin: { sonde: './dist/cli.js' },
      files: ['dist'],
      ...(options.dependencies ? { dependencies: options.dependencies } : {}),
      ...(options.bundle ? { bundleDependencies: deps } : {}),
    }),
  );
  if (options.bundle) await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: src });
  const printed = health === 'wrong-version' ? '0.0.1' : version;
  writeFileSync(
    path.join(src, 'dist', 'cli.js'),
    [
      '#!/usr/bin/env node',
      ...deps.map((dep, i) => `import dep${i} from '${dep}';`),
      'const args = process.argv.slice(2);',
      `if (args[0] === '--version') { console.log(${JSON.stringify(printed)}); process.exit(0); }`,
      "if (args[0] === 'update' && args.includes('--self-test')) {",
      health === 'self-test-fails'
        ? "  console.log(JSON.stringify({ ok: false, error: { code: 'SONDE_ERR_CONFIG_INVALID' } })); process.exit(1);"
        : `  console.log(JSON.stringify({ ok: true, version: ${JSON.stringify(version)}, home: process.env.SONDE_HOME, deps: [${deps.map((_, i) => `dep${i}`).join(', ')}] })); process.exit(0);`,
      '}',
      `console.log('fake agent ${version}', args.join(' '));`,
      '',
    ].join('\n'),
  );
  const out = path.join(work, `out-${path.basename(src)}`);
  mkdirSync(out);
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], { cwd: src });
  const tgz = path.join(out, (JSON.parse(stdout) as { filename: string }[])[0].filename);
  await signReleaseTarball(tgz, options.key ?? releaseKey);
  if (options.tamper) {
    // Unpack, change one byte of the signed program, pack again with the system tar: same names, new content.
    const dir = path.join(out, 'x');
    mkdirSync(dir);
    execFileSync('tar', ['-xzf', tgz, '-C', dir]);
    writeFileSync(path.join(dir, 'package', 'dist', 'cli.js'), `${readFileSync(path.join(dir, 'package', 'dist', 'cli.js'), 'utf8')}//x\n`);
    execFileSync('tar', ['-czf', tgz, '-C', dir, 'package']);
    rmSync(dir, { recursive: true });
  }
  for (const target of [out, tgz]) own(target);
  return tgz;
}

function update(args: string[]): Promise<CliResult> {
  return runCli(['update', ...args, '--json'], { home, user });
}

function current(): string | undefined {
  const link = path.join(home, 'releases', 'current');
  return existsSync(link) ? readlinkSync(link) : undefined;
}

function state(): {
  failed: { version: string }[];
  history: { action: string; to: string | null; code?: string; audited: boolean }[];
} {
  return JSON.parse(readFileSync(path.join(home, 'update-state.json'), 'utf8')) as ReturnType<typeof state>;
}

function errorOf(result: CliResult): { code: string; exitCode: number; verifyCode?: string; file?: string } {
  return json<{ error: { code: string; exitCode: number; verifyCode?: string } }>(result).error;
}

function releaseDirs(): string[] {
  return readdirSync(path.join(home, 'releases')).sort();
}

beforeAll(() => {
  ensureBuilt();
  home = tempDirFor(user, 'sonde-update-home-');
  work = tempDirFor(user, 'sonde-update-work-');
  const pub = (key: KeyFile) => ({ keyId: key.keyId, publicKey: key.publicKey, publisher: 'sonde' });
  const store: TrustStoreInput = {
    type: 'sonde-trust-store',
    keys: [pub(releaseKey), pub(revokedKey)],
    hubKeys: [{ keyId: hubKey.keyId, publicKey: hubKey.publicKey }],
    policy: { allow: [{ publisher: 'sonde', pack: '@sonde/agent' }] },
  };
  writeFileSync(path.join(home, 'trust.json'), JSON.stringify(store), { mode: 0o600 });
  const revocations = createRevocationList({ serial: 1, keys: [{ keyId: revokedKey.keyId, reason: 'test: leaked' }] }, hubKey);
  writeFileSync(path.join(home, 'revocations.json'), JSON.stringify(revocations), { mode: 0o600 });
  for (const file of ['trust.json', 'revocations.json']) own(path.join(home, file));
}, 120_000);

afterAll(() => {
  if (home) removeDir(home);
  if (work) removeDir(work);
});

describe('sonde update (self-update)', () => {
  it('refuses to run as root, before anything else', async () => {
    if (process.getuid?.() !== 0) return;
    const result = await runCli(['update', '--json'], { home, asRoot: true });
    expect(result.code).toBe(5);
    expect(errorOf(result).code).toBe('SONDE_ERR_ROOT_REFUSED');
  });

  it('the running agent passes its own self-test (the health check a new version must pass)', async () => {
    const result = await update(['--self-test']);
    expect(result.code, result.stderr).toBe(0);
    expect(json(result)).toMatchObject({ ok: true, version: '0.1.0', home });
  });

  it('--check verifies and reports, then a signed release installs side by side and switches current', async () => {
    const tgz = await release('0.2.0');
    const check = await update([tgz, '--check']);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(json(check)).toMatchObject({ action: 'would-update', from: '0.1.0', to: '0.2.0', keyId: releaseKey.keyId });
    expect(current()).toBeUndefined();
    expect(existsSync(path.join(home, 'update-state.json'))).toBe(false);

    const result = await update([tgz]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(json(result)).toMatchObject({ action: 'updated', from: '0.1.0', to: '0.2.0', current: '0.2.0', dependencies: 'none' });
    expect(current()).toBe('0.2.0');
    // Only the verified files, plus nothing: no staging folder or temporary link is left behind.
    expect(releaseDirs()).toEqual(['0.2.0', 'current']);
    expect(readdirSync(path.join(home, 'releases', '0.2.0')).sort()).toEqual(['dist', 'package.json', 'sonde-release-signature.json']);
    // The switched-to program runs through the stable path the service uses.
    const { stdout } = await run(path.join(home, 'releases', 'current', 'dist', 'cli.js'), ['--version']);
    expect(stdout.trim()).toBe('0.2.0');
    expect(state().history.at(-1)).toMatchObject({ action: 'updated', to: '0.2.0' });

    const again = await update([tgz]);
    expect(json(again)).toMatchObject({ action: 'up-to-date', from: '0.2.0', to: '0.2.0' });

    // No agent was running: the outcome is in the audit chain right away, and the chain verifies.
    const audit = await runCli(['audit', '--verify', '--json'], { home, user });
    expect(audit.code, audit.stdout).toBe(0);
    const entries = json<{ entries: { probe: string; status: string }[]; verify: { ok: boolean } }>(audit);
    expect(entries.verify.ok).toBe(true);
    expect(entries.entries).toContainEqual(expect.objectContaining({ probe: 'sonde.update', status: 'updated' }));
  });

  it('refuses a tampered tarball, an unknown key and a revoked key; current is untouched and nothing is written', async () => {
    const cases: [string, string][] = [
      [await release('0.3.0', { tamper: true }), 'SONDE_ERR_PACK_FILE_CHANGED'],
      [await release('0.3.0', { key: strangerKey }), 'SONDE_ERR_PACK_UNKNOWN_KEY'],
      [await release('0.3.0', { key: revokedKey }), 'SONDE_ERR_PACK_KEY_REVOKED'],
    ];
    for (const [tgz, verifyCode] of cases) {
      const result = await update([tgz]);
      expect(result.code, verifyCode).toBe(9);
      expect(errorOf(result)).toMatchObject({ code: 'SONDE_ERR_UPDATE_REFUSED', exitCode: 9, verifyCode });
      expect(current()).toBe('0.2.0');
      expect(releaseDirs()).toEqual(['0.2.0', 'current']);
      expect(state().history.at(-1)).toMatchObject({ action: 'refused', code: verifyCode });
      // --check says the same, with the same exit code.
      const check = await update([tgz, '--check']);
      expect(check.code).toBe(9);
      expect(errorOf(check).verifyCode).toBe(verifyCode);
    }
    // A refusal is not a "failed version": the signed 0.3.0 may still arrive intact later.
    expect(state().failed).toEqual([]);
    const text = await runCli(['update', cases[0][0]], { home, user });
    expect(text.code).toBe(9);
    expect(text.stderr).toContain('SONDE_ERR_UPDATE_REFUSED');
    expect(text.stderr).not.toMatch(/\n\s+at /);
  });

  it('a release whose health check fails is recorded, leaves current alone and is not retried', async () => {
    for (const health of ['self-test-fails', 'wrong-version'] as const) {
      const version = health === 'self-test-fails' ? '0.4.0' : '0.4.1';
      const tgz = await release(version, { health });
      const result = await update([tgz]);
      expect(result.code, result.stdout).toBe(9);
      expect(errorOf(result).code).toBe('SONDE_ERR_UPDATE_FAILED');
      expect(current()).toBe('0.2.0');
      expect(releaseDirs()).toEqual(['0.2.0', 'current']);
      expect(state().failed.map((entry) => entry.version)).toContain(version);

      const skipped = await update([tgz]);
      expect(skipped.code).toBe(0);
      expect(json(skipped)).toMatchObject({ action: 'skipped', to: version, current: '0.2.0' });

      const retried = await update([tgz, '--retry']);
      expect(retried.code).toBe(9);
      expect(current()).toBe('0.2.0');
    }
    expect(state().history.filter((entry) => entry.action === 'failed')).toHaveLength(4);
  });

  it('fetches through npm pack (file: spec, no registry), then refuses a downgrade unless asked', async () => {
    const newer = await release('0.5.0');
    const older = await release('0.2.5');
    const result = await update([`file:${newer}`]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(json(result)).toMatchObject({ action: 'updated', from: '0.2.0', to: '0.5.0' });
    expect(current()).toBe('0.5.0');

    const down = await update([older]);
    expect(down.code).toBe(9);
    expect(errorOf(down).code).toBe('SONDE_ERR_UPDATE_DOWNGRADE');
    expect(current()).toBe('0.5.0');

    const allowed = await update([older, '--allow-downgrade']);
    expect(allowed.code, allowed.stdout).toBe(0);
    expect(current()).toBe('0.2.5');
    // The release it replaced stays side by side for a switch back by hand; older ones are pruned.
    expect(json(allowed)).toMatchObject({ pruned: ['0.2.0'] });
    expect(releaseDirs()).toEqual(['0.2.5', '0.5.0', 'current']);
  });

  it('a missing registry package is a fetch failure with its own code, and nothing changes', async () => {
    const result = await update([`file:${path.join(work, 'missing.tgz')}`]);
    expect(result.code).toBe(9);
    expect(errorOf(result).code).toBe('SONDE_ERR_UPDATE_FETCH_FAILED');
    expect(current()).toBe('0.2.5');
    // Specs that would make npm build code before verification (git, folders, other packages) are usage errors.
    for (const spec of ['git+https://example.invalid/agent.git', 'github:sonde/agent', work, '@evil/agent@1.0.0']) {
      const refused = await update([spec]);
      expect(refused.code, spec).toBe(2);
      expect(errorOf(refused).code, spec).toBe('SONDE_ERR_USAGE');
    }
    expect((await update(['--registry=http://evil.invalid'])).code).toBe(2);
  });

  it('installs production dependencies with npm (scripts off) when the release does not bundle them', async () => {
    const depSrc = path.join(work, 'dep-src');
    mkdirSync(depSrc, { recursive: true });
    writeFileSync(
      path.join(depSrc, 'package.json'),
      JSON.stringify({
        name: 'sonde-test-dep',
        version: '1.0.0',
        type: 'module',
        main: 'index.js',
        scripts: { postinstall: 'touch HACKED' },
      }),
    );
    writeFileSync(path.join(depSrc, 'index.js'), "export default 'dep 1.0.0';\n");
    const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: depSrc });
    const depTgz = path.join(work, (JSON.parse(packed.stdout) as { filename: string }[])[0].filename);
    own(depTgz);

    // Leftovers of an update killed half-way are cleared by the next one.
    mkdirSync(path.join(home, 'releases', '.staging-9.9.9-dead', 'dist'), { recursive: true });
    symlinkSync('0.2.5', path.join(home, 'releases', '.current-1-dead'));
    for (const leftover of ['.staging-9.9.9-dead', '.staging-9.9.9-dead/dist']) own(path.join(home, 'releases', leftover));
    const installed = await update([await release('0.6.0', { dependencies: { 'sonde-test-dep': `file:${depTgz}` } })]);
    expect(installed.code, installed.stdout + installed.stderr).toBe(0);
    expect(json(installed)).toMatchObject({ action: 'updated', to: '0.6.0', dependencies: 'npm install' });
    const dir = path.join(home, 'releases', '0.6.0');
    expect(existsSync(path.join(dir, 'node_modules', 'sonde-test-dep', 'index.js'))).toBe(true);
    expect(existsSync(path.join(dir, 'node_modules', 'sonde-test-dep', 'HACKED'))).toBe(false);
    expect(existsSync(path.join(dir, 'package-lock.json'))).toBe(false);

    const bundled = await update([await release('0.7.0', { dependencies: { 'sonde-test-dep': `file:${depTgz}` }, bundle: true })]);
    expect(bundled.code, bundled.stdout + bundled.stderr).toBe(0);
    expect(json(bundled)).toMatchObject({ action: 'updated', to: '0.7.0', dependencies: 'bundled' });
    expect(current()).toBe('0.7.0');
    expect(releaseDirs()).toEqual(['0.6.0', '0.7.0', 'current']);
    const selfTest = await run(path.join(home, 'releases', 'current', 'dist', 'cli.js'), ['update', '--self-test']);
    expect(JSON.parse(selfTest.stdout)).toMatchObject({ ok: true, version: '0.7.0', deps: ['dep 1.0.0'] });
  });

  it('--restart stops the running agent after the switch; its audit entry waits for the ring of the next start', async () => {
    // Stands in for the running service: a process of the agent user, published in status.json as the agent does.
    const agent = spawn('sleep', ['60'], { uid: user?.uid, gid: user?.gid, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => agent.once('exit', (_code, signal) => resolve(signal)));
    const now = new Date().toISOString();
    const statusFile = path.join(home, 'status.json');
    writeStatus(statusFile, {
      pid: agent.pid!,
      startedAt: now,
      updatedAt: now,
      running: true,
      connected: false,
      registered: false,
      connects: 0,
      rejectedFrames: 0,
      isolation: 'test',
      packs: [],
    });
    own(statusFile);
    const auditBefore = readFileSync(path.join(home, 'audit.json'), 'utf8');
    try {
      const result = await update([await release('0.8.0'), '--restart']);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(json(result)).toMatchObject({ action: 'updated', to: '0.8.0', restarted: agent.pid });
      expect(await exited).toBe('SIGTERM');
    } finally {
      agent.kill('SIGKILL');
      rmSync(statusFile, { force: true });
    }
    // The running agent owns audit.json: it was not rewritten under it; the outcome is pending for replayUpdateAudit.
    expect(readFileSync(path.join(home, 'audit.json'), 'utf8')).toBe(auditBefore);
    expect(state().history.at(-1)).toMatchObject({ action: 'updated', to: '0.8.0', audited: false });

    // What the agent does when it starts: every outcome not yet in a ring is appended, chained, then marked audited.
    const ring = new AuditRing(1000);
    const replayed = replayUpdateAudit(homePaths(home), ring);
    own(path.join(home, 'update-state.json'));
    expect(replayed).toBe(state().history.length);
    expect(ring.list().at(-1)).toMatchObject({ probe: 'sonde.update', status: 'updated' });
    expect(ring.list().map((entry) => entry.status)).toEqual(expect.arrayContaining(['refused', 'failed', 'downgrade-refused']));
    expect(verifyAuditChain(ring.list()).ok).toBe(true);
    expect(state().history.every((entry) => entry.audited)).toBe(true);
    expect(replayUpdateAudit(homePaths(home), new AuditRing(1000))).toBe(0);
  });

  it('operator flow: sonde trust add-key --allow @sonde/agent admits releases; a key allowed for every pack (*) does not', async () => {
    const fresh = tempDirFor(user, 'sonde-update-trust-');
    try {
      const pubFile = path.join(fresh, 'release.pub.json');
      writeFileSync(pubFile, JSON.stringify(publicPart(releaseKey)));
      own(pubFile);
      const tgz = await release('1.0.0');
      const cli = (args: string[]) => runCli([...args, '--json'], { home: fresh, user });

      expect((await cli(['trust', 'add-key', pubFile])).code).toBe(0); // default: every pack (*)
      const broad = await cli(['update', tgz, '--check']);
      expect(broad.code).toBe(9);
      expect(errorOf(broad)).toMatchObject({ code: 'SONDE_ERR_UPDATE_REFUSED', verifyCode: 'SONDE_ERR_PACK_NOT_ALLOWED' });

      expect((await cli(['trust', 'add-key', pubFile, '--allow', '@sonde/agent'])).code).toBe(0);
      const named = await cli(['update', tgz, '--check']);
      expect(named.code, named.stdout).toBe(0);
      expect(json(named)).toMatchObject({ action: 'would-update', to: '1.0.0', keyId: releaseKey.keyId });
    } finally {
      removeDir(fresh);
    }
  });
});

describe('docs/errors/agent.md', () => {
  const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/errors/agent.md'), 'utf8');
  const documented = new Map([...doc.matchAll(/^\| `(SONDE_ERR_[A-Z_]+)` \| (\d+) \|/gm)].map((m) => [m[1], Number(m[2])]));

  it.each(Object.keys(AgentErrors))('documents %s with its exit code', (code) => {
    expect(documented.get(code), `${code} is missing from docs/errors/agent.md`).toBe(AgentErrors[code as keyof typeof AgentErrors].exit);
  });

  it('documents no code that does not exist, with the right exit codes', () => {
    for (const [code, exit] of documented) {
      expect(code in AgentErrors, code).toBe(true);
      expect(AgentErrors[code as keyof typeof AgentErrors].exit, code).toBe(exit);
    }
  });
});
