import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { signPackTarball, type SigningKey } from '@sonde/registry';
import { runCommand } from '../../support/run.js';

/**
 * A real npm registry on loopback for the signed-packs end-to-end test:
 * verdaccio, installed on first use into the e2e tool cache from a committed
 * lockfile (`npm ci`, so the same bytes every time and nothing to resolve once
 * cached), started with storage in a temp dir, no uplinks (nothing is ever
 * proxied to the internet) and htpasswd auth with one test user who may
 * publish. Several registries can run at once: each has its own port, storage
 * and `.npmrc`.
 */
const REPO = path.resolve(import.meta.dirname, '../../..');
const FIXTURE = path.join(REPO, 'test/e2e/fixtures/verdaccio');
const CACHE = path.join(REPO, 'node_modules/.cache/sonde-e2e-tools');

/** Installs verdaccio into the tool cache (once per lockfile content) and returns the prefix. */
export function verdaccioPrefix(): string {
  const lock = readFileSync(path.join(FIXTURE, 'package-lock.json'));
  const manifest = readFileSync(path.join(FIXTURE, 'package.json'));
  const stamp = createHash('sha256').update(manifest).update(lock).digest('hex').slice(0, 16);
  const prefix = path.join(CACHE, `verdaccio-${stamp}`);
  if (existsSync(path.join(prefix, 'node_modules/verdaccio/package.json'))) return prefix;
  // Installed under a temporary name and renamed: an interrupted install never looks complete.
  mkdirSync(CACHE, { recursive: true });
  const staging = mkdtempSync(path.join(CACHE, '.verdaccio-staging-'));
  try {
    copyFileSync(path.join(FIXTURE, 'package.json'), path.join(staging, 'package.json'));
    copyFileSync(path.join(FIXTURE, 'package-lock.json'), path.join(staging, 'package-lock.json'));
    execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: staging,
      stdio: 'pipe',
      timeout: 300_000,
    });
    try {
      renameSync(staging, prefix);
    } catch (error) {
      // Another run finished the same install first: use it.
      if (!existsSync(path.join(prefix, 'node_modules/verdaccio/package.json'))) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return prefix;
}

export interface NpmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** npm through execFile (no shell), with its output and exit code. */
export function npm(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<NpmResult> {
  // In its own process group: a timeout stops what npm started (an install's scripts, a second npm) too.
  return runCommand('npm', args, { cwd: options.cwd, env: options.env ?? process.env, timeoutMs: options.timeoutMs ?? 60_000 });
}

export interface Registry {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  /** A `.npmrc` with this registry as default and the test user's token. */
  npmrc: string;
  /** Where npm commands against this registry keep their cache (private to this registry). */
  npmCache: string;
  /** `npm publish <tarball>`; throws with npm's output when it fails. */
  publish(tarball: string, options?: { tag?: string }): Promise<void>;
  /** `npm pack <spec>` from this registry into `dir`; returns the tarball path. */
  fetch(spec: string, dir: string): Promise<string>;
  /** verdaccio's own output, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

const TEST_USER = 'sonde-e2e';

/** Starts a fresh verdaccio on 127.0.0.1 (random free port) with a test user allowed to publish. */
export async function startRegistry(options: { startTimeoutMs?: number } = {}): Promise<Registry> {
  const prefix = verdaccioPrefix();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-e2e-registry-'));
  const storage = path.join(dir, 'storage');
  const htpasswd = path.join(dir, 'htpasswd');
  mkdirSync(storage);
  writeFileSync(htpasswd, '');
  const config = path.join(dir, 'config.yaml');
  // JSON is YAML: no YAML writer needed. No `uplinks`: a package not published here is a 404, never a fetch from npmjs.
  writeFileSync(
    config,
    JSON.stringify(
      {
        storage,
        auth: { htpasswd: { file: htpasswd, max_users: 10 } },
        uplinks: {},
        packages: {
          '@*/*': { access: '$all', publish: '$authenticated', unpublish: '$authenticated' },
          '**': { access: '$all', publish: '$authenticated', unpublish: '$authenticated' },
        },
        web: { enable: false },
        log: { type: 'stdout', format: 'pretty', level: 'warn' },
        server: { keepAliveTimeout: 5 },
      },
      null,
      2,
    ),
  );

  const child = spawn(process.execPath, [path.join(FIXTURE, 'run.cjs'), prefix, config], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A test run that dies before stop() (a failed beforeAll) must not leave a registry behind.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  let port: number;
  try {
    port = await waitForPort(child, () => out, options.startTimeoutMs ?? 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const url = `http://127.0.0.1:${port}/`;
  const host = `//127.0.0.1:${port}/`;

  let token: string;
  try {
    token = await addUser(url, TEST_USER, `pw-${createHash('sha256').update(dir).digest('hex').slice(0, 20)}`);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}\nverdaccio output:\n${out}`);
  }
  const npmrc = path.join(dir, '.npmrc');
  writeFileSync(npmrc, `registry=${url}\n${host}:_authToken=${token}\naudit=false\nfund=false\nupdate-notifier=false\n`, { mode: 0o600 });
  const npmCache = path.join(dir, 'npm-cache');
  const npmEnv = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    npm_config_userconfig: npmrc,
    npm_config_cache: npmCache,
    npm_config_registry: url,
  });

  return {
    url,
    npmrc,
    npmCache,
    async publish(tarball, publishOptions = {}) {
      const args = ['publish', tarball, '--registry', url, '--userconfig', npmrc, '--access', 'public', '--ignore-scripts'];
      args.push('--tag', publishOptions.tag ?? 'latest');
      const result = await npm(args, { cwd: dir, env: npmEnv() });
      if (result.code !== 0) throw new Error(`npm publish ${tarball} to ${url} exited ${result.code}:\n${result.stdout}${result.stderr}`);
    },
    async fetch(spec, into) {
      const result = await npm(['pack', spec, '--registry', url, '--pack-destination', into, '--json', '--ignore-scripts'], {
        cwd: dir,
        env: npmEnv(),
      });
      if (result.code !== 0) throw new Error(`npm pack ${spec} from ${url} exited ${result.code}:\n${result.stdout}${result.stderr}`);
      const [entry] = JSON.parse(result.stdout.slice(result.stdout.indexOf('['))) as Array<{ filename: string }>;
      return path.join(into, entry.filename.replace(/^@/, '').replace(/\//g, '-'));
    },
    output: () => out,
    async stop() {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function waitForPort(child: ChildProcess, output: () => string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`verdaccio did not start within ${timeoutMs} ms:\n${output()}`)), timeoutMs);
    const check = (): void => {
      const match = /SONDE_VERDACCIO_PORT=(\d+)/.exec(output());
      if (match) finish(undefined, Number(match[1]));
    };
    const onExit = (code: number | null): void => finish(new Error(`verdaccio exited (${code}) before listening:\n${output()}`));
    function finish(error?: Error, port?: number): void {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(port!);
    }
    child.stdout?.on('data', check);
    child.once('exit', onExit);
  });
}

/** What `npm adduser` does over HTTP: creates the htpasswd user and returns its token. */
async function addUser(url: string, name: string, password: string): Promise<string> {
  const response = await fetch(new URL(`-/user/org.couchdb.user:${encodeURIComponent(name)}`, url), {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ _id: `org.couchdb.user:${name}`, name, password, type: 'user', roles: [], date: new Date().toISOString() }),
  });
  const body = (await response.json().catch(() => ({}))) as { token?: unknown };
  if (response.status !== 201 || typeof body.token !== 'string') {
    throw new Error(`creating the registry user failed: HTTP ${response.status} ${JSON.stringify(body)}`);
  }
  return body.token;
}

// ---------------------------------------------------------------------------
// Signed pack tarballs to publish: copies of a real pack folder, one per version.

const FIXTURES = path.join(REPO, 'test/e2e/fixtures');

export interface PackVariant {
  version: string;
  /**
   * What the pack is granted: file globs for the agent fixture, endpoint paths for the integration one
   * (the fixture's `const GRANTS = …` line). More entries = more permissions.
   */
  grants?: string[];
}

export interface BuiltPack {
  tarball: string;
  packageName: string;
  version: string;
  /** Content integrity from the signature (what pins and the index use). */
  integrity: string;
  keyId: string;
}

export interface PackFactory {
  dir: string;
  /** Copies the fixture pack, sets the version and permissions, writes sonde-pack.json from the code, `npm pack`s and signs. */
  build(variant: PackVariant, key: SigningKey): Promise<BuiltPack>;
  /** A copy of a signed tarball with one file's content changed after signing (the signature is left as it was). */
  tamper(tarball: string, file: string, change: (text: string) => string): string;
  cleanup(): void;
}

/**
 * Builds signed tarballs from a fixture pack folder under test/e2e/fixtures whose index.js has a
 * `const VERSION = …;` and a `const GRANTS = …;` line: `signed-pack` (an agent pack) or
 * `signed-integration-pack` (a hub integration pack).
 */
export function createPackFactory(fixture: 'signed-pack' | 'signed-integration-pack' = 'signed-pack'): PackFactory {
  const source = path.join(FIXTURES, fixture);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-e2e-packs-'));
  // The copies import @sonde/pack-sdk and zod to build their manifest: resolve them from the repo.
  symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  const out = path.join(dir, 'tarballs');
  mkdirSync(out);
  let n = 0;
  return {
    dir,
    async build(variant, key) {
      const target = path.join(dir, `pack-${variant.version}-${n++}`);
      cpSync(source, target, { recursive: true });
      const packageJson = JSON.parse(readFileSync(path.join(target, 'package.json'), 'utf8')) as { name: string; version: string };
      packageJson.version = variant.version;
      writeFileSync(path.join(target, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
      const code = readFileSync(path.join(target, 'index.js'), 'utf8')
        .replace(/^const VERSION = .*$/m, `const VERSION = ${JSON.stringify(variant.version)};`)
        .replace(/^const GRANTS = .*$/m, (line) => (variant.grants ? `const GRANTS = ${JSON.stringify(variant.grants)};` : line));
      writeFileSync(path.join(target, 'index.js'), code);
      const script = `const m = await import(${JSON.stringify(pathToFileURL(path.join(target, 'index.js')).href)}); process.stdout.write(JSON.stringify(m.default.manifest, null, 2));`;
      const manifest = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' });
      writeFileSync(path.join(target, 'sonde-pack.json'), `${manifest}\n`);
      const packed = await npm(['pack', target, '--pack-destination', out, '--json', '--ignore-scripts'], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, npm_config_cache: path.join(dir, '.npm-cache') },
      });
      if (packed.code !== 0) throw new Error(`npm pack ${target} exited ${packed.code}:\n${packed.stdout}${packed.stderr}`);
      const [entry] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{ filename: string }>;
      const tarball = path.join(out, entry.filename.replace(/^@/, '').replace(/\//g, '-'));
      const signed = await signPackTarball(tarball, key);
      return { tarball, packageName: packageJson.name, version: variant.version, integrity: signed.integrity, keyId: key.keyId };
    },
    tamper(tarball, file, change) {
      const work = mkdtempSync(path.join(dir, 'tamper-'));
      const tar = (args: string[]): void => {
        execFileSync('tar', args, { cwd: work, stdio: 'pipe' });
      };
      tar(['-xzf', tarball]);
      const victim = path.join(work, 'package', file);
      const before = readFileSync(victim, 'utf8');
      const after = change(before);
      if (after === before) throw new Error(`tamper: ${file} unchanged`);
      writeFileSync(victim, after);
      const tampered = path.join(dir, 'tarballs', `tampered-${n++}-${path.basename(tarball)}`);
      tar(['-czf', tampered, '--owner=0', '--group=0', '--numeric-owner', 'package']);
      return tampered;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
