import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  RegistryError,
  fetchPackTarball,
  loadTrustFile,
  readPackTarball,
  verifyReleaseContents,
  verifyReleaseDir,
  type PackContents,
  type Trust,
  type VerifiedRelease,
} from '@sonde/registry';
import { AgentError, type AgentErrorCode } from '../errors.js';
import type { HomePaths } from '../home.js';
import { auditUpdate } from './audit.js';
import {
  acquireLock,
  compareVersions,
  currentRelease,
  isVersion,
  readUpdateState,
  releaseLayout,
  switchCurrent,
  writeUpdateState,
  type HistoryEntry,
  type ReleaseLayout,
  type UpdateState,
} from './layout.js';

export const AGENT_PACKAGE = '@sonde/agent';

/** An AgentError that also carries facts for --json (verify code, versions). */
export class UpdateError extends AgentError {
  constructor(
    code: AgentErrorCode,
    detail: string,
    readonly updateFacts: Record<string, unknown> = {},
  ) {
    super(code, detail);
  }

  override toJSON(): { code: AgentErrorCode; message: string; next: string; exitCode: number } & Record<string, unknown> {
    return { ...this.updateFacts, ...super.toJSON() };
  }
}

export interface SelfUpdateOptions {
  paths: HomePaths;
  /** A version, range or dist-tag of @sonde/agent, a full npm spec, or a path to a release .tgz; default `latest`. */
  target?: string;
  /** Report what would happen; write nothing. */
  check?: boolean;
  /** Try a version recorded as failed again. */
  retry?: boolean;
  allowDowngrade?: boolean;
  /** The version of the program running this command (used when there is no release layout yet). */
  runningVersion: string;
  /** Trust store file; default SONDE_HOME/trust.json (with SONDE_HOME/revocations.json when present). */
  trustFile?: string;
  /** Node binary for the health check; default the one running now. */
  nodePath?: string;
  fetchTimeoutMs?: number;
  healthTimeoutMs?: number;
}

export type SelfUpdateAction = 'updated' | 'up-to-date' | 'would-update' | 'skipped';

export interface SelfUpdateResult {
  ok: true;
  action: SelfUpdateAction;
  from: string;
  to: string;
  /** The version `releases/current` points at after this command (undefined: no release layout yet). */
  current: string | undefined;
  releaseDir?: string;
  integrity?: string;
  keyId?: string;
  publisher?: string | undefined;
  publishedAt?: string;
  dependencies?: 'none' | 'bundled' | 'npm ci' | 'npm install';
  /** Older release folders removed after the switch (the new current and the one it replaced are kept). */
  pruned?: string[];
  reason?: string;
}

/**
 * `0.3.0`, `^0.3`, `latest` → `@sonde/agent@…`; `@sonde/agent[@…]` as given; a path to a `.tgz` stays a path and a
 * `file:…tgz` spec goes through npm. Nothing else: a git URL or a folder would make npm build (prepare) code before
 * anything is verified.
 */
export function releaseSpec(target: string | undefined, cwd: string): string {
  if (target === undefined || target === '') return `${AGENT_PACKAGE}@latest`;
  if (target.startsWith('file:')) {
    if (target.endsWith('.tgz')) return target;
  } else if (target.endsWith('.tgz')) {
    return path.resolve(cwd, target);
  } else if (target === AGENT_PACKAGE || target.startsWith(`${AGENT_PACKAGE}@`)) {
    if (/^[A-Za-z0-9.^~<>=|* +-]+$/.test(target.slice(AGENT_PACKAGE.length + 1) || 'latest')) return target;
  } else if (/^[A-Za-z0-9.^~<>=|* +-]+$/.test(target) && !target.startsWith('-')) {
    return `${AGENT_PACKAGE}@${target}`;
  }
  throw new AgentError(
    'SONDE_ERR_USAGE',
    `"${target}" is not a version, range or dist-tag of ${AGENT_PACKAGE}, nor a path to a release .tgz.`,
  );
}

function loadUpdateTrust(paths: HomePaths, file: string | undefined): Promise<Trust> {
  const store = file ?? path.join(paths.home, 'trust.json');
  const revocations = path.join(paths.home, 'revocations.json');
  if (!existsSync(store)) {
    throw new UpdateError(
      'SONDE_ERR_UPDATE_REFUSED',
      `no trust store at ${store}: nothing is trusted. Add the release key with sonde-registry trust add-key ${store} --key <release.pub.json> --allow ${AGENT_PACKAGE}.`,
      { verifyCode: 'SONDE_ERR_TRUST_INVALID' },
    );
  }
  return loadTrustFile(store, existsSync(revocations) ? { revocationsPath: revocations } : {}).catch((error: unknown) => {
    if (error instanceof RegistryError) throw new UpdateError('SONDE_ERR_UPDATE_REFUSED', error.message, { verifyCode: error.code });
    throw error;
  });
}

function claimedVersion(contents: PackContents): string | undefined {
  try {
    const version = (JSON.parse(contents.get('package.json')?.toString('utf8') ?? '{}') as { version?: unknown }).version;
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

interface PackageJson {
  bin?: string | Record<string, string>;
  dependencies?: Record<string, string>;
}

function binPath(pkg: PackageJson): string {
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.sonde;
  if (typeof bin !== 'string') throw new Error('the release declares no "sonde" bin in package.json');
  return safeRelativePath(bin);
}

function run(
  file: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs, maxBuffer: 4 * 1024 * 1024, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr: error && code === 1 && !stderr ? error.message : stderr });
      },
    );
  });
}

/** A package-relative path: no absolute path, no `..`, `/` separators (tar entries were already checked the same way). */
function safeRelativePath(file: string): string {
  const parts = file.split('/').filter((part) => part !== '' && part !== '.');
  if (file.startsWith('/') || parts.length === 0 || parts.includes('..') || file.includes('\0') || file.includes('\\')) {
    throw new Error(`unsafe path in the release: ${JSON.stringify(file)}`);
  }
  return parts.join('/');
}

/**
 * Keeps the new current release and the one it replaced (for a switch back by hand); removes the other version
 * folders. Best effort: a folder that cannot be removed stays and is tried again next time.
 */
function pruneReleases(layout: ReleaseLayout, keep: string[]): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(layout.releases)) {
    if (!isVersion(name) || keep.includes(name)) continue;
    try {
      rmSync(path.join(layout.releases, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      // left for the next update
    }
  }
  return removed.sort();
}

/** Staging folders and temporary links of an update that was killed half-way (we hold the lock: none is in use). */
function removeLeftovers(layout: ReleaseLayout): void {
  for (const name of readdirSync(layout.releases)) {
    if (!name.startsWith('.staging-') && !name.startsWith('.current-')) continue;
    try {
      rmSync(path.join(layout.releases, name), { recursive: true, force: true });
    } catch {
      // best effort: a leftover never blocks an update (new ones use unique names)
    }
  }
}

const tail = (text: string): string => text.trim().split('\n').slice(-3).join(' ').slice(0, 500);

/** Writes exactly the verified files (nothing else) under `dir`; the `sonde` bin is made executable. */
function writeRelease(dir: string, contents: PackContents, bin: string): void {
  mkdirSync(dir, { recursive: false, mode: 0o755 });
  for (const [file, bytes] of contents) {
    const target = path.join(dir, ...safeRelativePath(file).split('/'));
    mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
    writeFileSync(target, bytes, { mode: file === bin ? 0o755 : 0o644, flag: 'wx' });
    if (file === bin) chmodSync(target, 0o755);
  }
}

/**
 * Dependencies: a release that bundles them (signed, under node_modules/)
 * needs nothing. Otherwise npm installs the production ones with scripts off:
 * `npm ci` when the release ships npm-shrinkwrap.json (every dependency pinned
 * by integrity, and the shrinkwrap itself is signed), else `npm install`.
 */
async function installDependencies(
  dir: string,
  pkg: PackageJson,
  verified: VerifiedRelease,
  contents: PackContents,
  env: NodeJS.ProcessEnv,
): Promise<NonNullable<SelfUpdateResult['dependencies']>> {
  if (Object.keys(pkg.dependencies ?? {}).length === 0) return 'none';
  if (verified.bundled) return 'bundled';
  const ci = contents.has('npm-shrinkwrap.json');
  const common = ['--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'];
  const args = ci ? ['ci', ...common] : ['install', ...common, '--no-package-lock', '--no-save'];
  const result = await run('npm', args, { cwd: dir, env, timeoutMs: 600_000 });
  if (result.code !== 0) throw new Error(`npm ${args[0]} of the release dependencies failed: ${tail(result.stderr || result.stdout)}`);
  return ci ? 'npm ci' : 'npm install';
}

/**
 * The new version must start and accept this host's configuration before it
 * becomes current: `<bin> --version` prints exactly its version, and
 * `<bin> update --self-test --json` loads SONDE_HOME's config and identity
 * with the new code and answers ok.
 */
async function healthCheck(dir: string, bin: string, version: string, options: SelfUpdateOptions): Promise<void> {
  const node = options.nodePath ?? process.execPath;
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? options.paths.home, SONDE_HOME: options.paths.home };
  const call = { cwd: options.paths.home, env, timeoutMs: options.healthTimeoutMs ?? 30_000 };
  const entry = path.join(dir, bin);
  const printed = await run(node, [entry, '--version'], call);
  if (printed.code !== 0)
    throw new Error(`health check: ${bin} --version exited ${printed.code}: ${tail(printed.stderr || printed.stdout)}`);
  if (printed.stdout.trim() !== version)
    throw new Error(`health check: ${bin} --version printed "${tail(printed.stdout)}", expected ${version}`);
  const selfTest = await run(node, [entry, 'update', '--self-test', '--json'], call);
  let answer: { ok?: unknown; version?: unknown } = {};
  try {
    answer = JSON.parse(selfTest.stdout) as typeof answer;
  } catch {
    // reported below
  }
  if (selfTest.code !== 0 || answer.ok !== true || answer.version !== version) {
    throw new Error(`health check: update --self-test exited ${selfTest.code}: ${tail(selfTest.stdout || selfTest.stderr)}`);
  }
}

function record(layout: ReleaseLayout, state: UpdateState, entry: Omit<HistoryEntry, 'id' | 'at' | 'audited'>, paths: HomePaths): void {
  const full: HistoryEntry = { id: `update-${randomUUID()}`, at: new Date().toISOString(), audited: false, ...entry };
  state.history.push(full);
  writeUpdateState(layout, state);
  auditUpdate(paths, full);
}

/**
 * `sonde update`: fetch the release with `npm pack --ignore-scripts` (no
 * shell), verify it in memory against the trust store, refuse downgrades and
 * versions that failed before, write only the verified files to
 * `releases/.staging-*`, install dependencies if it needs them, verify the
 * folder again, health-check the new version, and only then rename it to
 * `releases/<version>` and switch `current`. On any failure `current` is not
 * touched, the staging folder is removed and the version is recorded as failed.
 */
export async function selfUpdate(options: SelfUpdateOptions): Promise<SelfUpdateResult> {
  const started = Date.now();
  const { paths } = options;
  const layout = releaseLayout(paths);
  const trust = await loadUpdateTrust(paths, options.trustFile);
  const release = options.check ? () => {} : acquireLock(layout);
  try {
    if (!options.check) removeLeftovers(layout);
    const current = currentRelease(layout);
    const from = current ?? options.runningVersion;
    const state = readUpdateState(layout);
    const spec = releaseSpec(options.target, process.cwd());

    let contents: PackContents;
    try {
      const fetched = await fetchPackTarball(spec, { cwd: paths.home, timeoutMs: options.fetchTimeoutMs ?? 300_000 });
      try {
        contents = await readPackTarball(fetched.tarball);
      } finally {
        await fetched.cleanup();
      }
    } catch (error) {
      if (error instanceof RegistryError && error.code === 'SONDE_ERR_FETCH_FAILED')
        throw new UpdateError('SONDE_ERR_UPDATE_FETCH_FAILED', error.message, { spec });
      if (error instanceof RegistryError)
        throw new UpdateError('SONDE_ERR_UPDATE_REFUSED', `${spec}: ${error.message}`, { verifyCode: 'SONDE_ERR_PACK_MALFORMED' });
      throw error;
    }

    // A version that failed here is not fetched into place again (its claim is enough to skip: skipping is the safe side).
    const claimed = claimedVersion(contents);
    const failedBefore = claimed === undefined ? undefined : state.failed.find((entry) => entry.version === claimed);
    if (failedBefore && !options.retry) {
      return {
        ok: true,
        action: 'skipped',
        from,
        to: failedBefore.version,
        current,
        reason: `${failedBefore.version} failed on ${failedBefore.at} (${failedBefore.reason}); pass --retry to try it again`,
      };
    }

    const verified = verifyReleaseContents(contents, trust, { expectedName: AGENT_PACKAGE });
    if (!verified.ok) {
      if (!options.check) {
        record(
          layout,
          state,
          {
            action: 'refused',
            from,
            to: claimed ?? null,
            code: verified.code,
            reason: verified.reason,
            durationMs: Date.now() - started,
          },
          paths,
        );
      }
      throw new UpdateError('SONDE_ERR_UPDATE_REFUSED', `${verified.code}: ${verified.reason}`, {
        verifyCode: verified.code,
        ...(verified.file ? { file: verified.file } : {}),
        from,
        to: claimed ?? null,
      });
    }
    const facts = {
      from,
      to: verified.version,
      current,
      integrity: verified.integrity,
      keyId: verified.keyId,
      publisher: verified.publisher,
      publishedAt: verified.publishedAt,
    };

    const order = compareVersions(verified.version, from);
    if (order === 0 && current !== undefined) return { ok: true, action: 'up-to-date', ...facts };
    if (order < 0 && !options.allowDowngrade) {
      if (!options.check) {
        record(
          layout,
          state,
          {
            action: 'downgrade-refused',
            from,
            to: verified.version,
            integrity: verified.integrity,
            keyId: verified.keyId,
            code: 'SONDE_ERR_UPDATE_DOWNGRADE',
            reason: `${verified.version} is older than ${from}`,
            durationMs: Date.now() - started,
          },
          paths,
        );
      }
      throw new UpdateError('SONDE_ERR_UPDATE_DOWNGRADE', `${verified.version} is older than ${from}.`, facts);
    }
    if (options.check) return { ok: true, action: 'would-update', ...facts };

    const target = path.join(layout.releases, verified.version);
    const staging = path.join(layout.releases, `.staging-${verified.version}-${randomBytes(6).toString('hex')}`);
    let dependencies: SelfUpdateResult['dependencies'];
    try {
      if (!isVersion(verified.version)) throw new Error(`${verified.version} is not a semver version`);
      const pkg = JSON.parse(contents.get('package.json')!.toString('utf8')) as PackageJson;
      const bin = binPath(pkg);
      if (!contents.has(bin)) throw new Error(`the release's bin ${bin} is not one of its files`);
      writeRelease(staging, contents, bin);
      const npmEnv = { ...process.env, npm_config_yes: 'false' };
      dependencies = await installDependencies(staging, pkg, verified, contents, npmEnv);
      // What is on disk now (after npm) must still be exactly what was signed.
      const onDisk = await verifyReleaseDir(staging, trust, { expectedName: AGENT_PACKAGE });
      if (!onDisk.ok) throw new Error(`the unpacked release does not verify: ${onDisk.code}: ${onDisk.reason}`);
      if (onDisk.integrity !== verified.integrity) throw new Error('the unpacked release is not the verified one');
      await healthCheck(staging, bin, verified.version, options);
      rmSync(target, { recursive: true, force: true });
      renameSync(staging, target);
      switchCurrent(layout, verified.version);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      const reason = error instanceof Error ? error.message : String(error);
      state.failed = [
        ...state.failed.filter((entry) => entry.version !== verified.version),
        { version: verified.version, integrity: verified.integrity, code: 'SONDE_ERR_UPDATE_FAILED', reason, at: new Date().toISOString() },
      ];
      record(
        layout,
        state,
        {
          action: 'failed',
          from,
          to: verified.version,
          integrity: verified.integrity,
          keyId: verified.keyId,
          code: 'SONDE_ERR_UPDATE_FAILED',
          reason,
          durationMs: Date.now() - started,
        },
        paths,
      );
      throw new UpdateError('SONDE_ERR_UPDATE_FAILED', reason, facts);
    }
    state.failed = state.failed.filter((entry) => entry.version !== verified.version);
    const pruned = pruneReleases(layout, [verified.version, from]);
    record(
      layout,
      state,
      {
        action: 'updated',
        from,
        to: verified.version,
        integrity: verified.integrity,
        keyId: verified.keyId,
        durationMs: Date.now() - started,
      },
      paths,
    );
    return { ok: true, action: 'updated', ...facts, current: verified.version, releaseDir: target, dependencies, pruned };
  } finally {
    release();
  }
}
