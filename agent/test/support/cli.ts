import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addTrustedKey, emptyTrustStore, newKeyFile, signPackDir, signedPackCopy } from '@sonde/registry';

export const REPO = path.resolve(import.meta.dirname, '../../..');
export const CLI = path.join(REPO, 'agent/dist/cli.js');
const FIXTURE = path.join(REPO, 'agent/test/fixtures/pack-fixture');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** The bundled build dist/cli.js runs when it is current (agent/src/cli.ts, agent/scripts/bundle.mjs). */
const BUNDLE = path.join(REPO, 'agent/dist/sonde/main.js');
const BUNDLED_SOURCES = ['agent/src', 'pack-sdk/src', 'registry/src'].map((dir) => path.join(REPO, dir));

/**
 * Tests spawn the real built CLI, as it ships: the bundle. Rebuild the agent (and what it references) and the bundle
 * when a source it is made of is newer.
 */
export function ensureBuilt(): void {
  const built = existsSync(BUNDLE) ? statSync(BUNDLE).mtimeMs : 0;
  if (BUNDLED_SOURCES.every((dir) => built >= newestMtime(dir))) return;
  try {
    execFileSync('npx', ['tsc', '-b', 'agent'], { cwd: REPO, stdio: 'pipe' });
  } catch {
    // A referenced workspace (pack-sdk) may be mid-edit by someone else: build the agent alone against its last declarations.
    buildAgentAlone();
  }
  try {
    execFileSync(process.execPath, [path.join(REPO, 'agent/scripts/bundle.mjs')], { cwd: REPO, stdio: 'pipe' });
  } catch (error) {
    // Without a current bundle dist/cli.js runs the per-module build: still the real agent, built from these sources.
    process.stderr.write(`agent tests: bundling failed, testing the per-module build (${String(error).slice(0, 300)})\n`);
  }
}

function buildAgentAlone(): void {
  try {
    execFileSync('npx', ['tsc', '-p', 'agent'], { cwd: REPO, stdio: 'pipe' });
  } catch (error) {
    // Another workspace may be mid-edit; a previous build of the agent is still a real binary to test.
    if (!existsSync(CLI)) throw error;
    process.stderr.write(`agent tests: rebuild failed, testing the existing build (${String(error).slice(0, 300)})\n`);
  }
}

export interface AgentUser {
  uid: number;
  gid: number;
}

/** Root runs the agent as the unprivileged `sonde` user (created when missing); others run it as themselves. */
export function agentUser(): AgentUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'sonde'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', 'sonde']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

function chownTree(target: string, user: AgentUser | undefined): void {
  if (!user) return;
  chownSync(target, user.uid, user.gid);
  if (statSync(target).isDirectory()) for (const entry of readdirSync(target)) chownTree(path.join(target, entry), user);
}

/** A private temp dir owned by the agent user (SONDE_HOME or scratch). */
export function tempDirFor(user: AgentUser | undefined, prefix = 'sonde-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(dir, 0o700);
  chownTree(dir, user);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function spawnEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, SONDE_HOME: home, ...extra };
}

export function runCli(
  args: string[],
  options: { home: string; user?: AgentUser; env?: Record<string, string>; asRoot?: boolean },
): Promise<CliResult> {
  const user = options.asRoot ? undefined : options.user;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: spawnEnv(options.home, options.env), cwd: options.home, uid: user?.uid, gid: user?.gid, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export function json<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${result.code}): ${result.stdout}\n${result.stderr}`);
  }
}

export interface AgentProcess {
  child: ChildProcess;
  output: () => string;
  waitForOutput: (pattern: RegExp, timeoutMs?: number) => Promise<string>;
  stop: () => Promise<number | null>;
}

export function spawnAgent(options: { home: string; user?: AgentUser; args?: string[] }): AgentProcess {
  const child = spawn(process.execPath, [CLI, 'start', '--json-logs', ...(options.args ?? [])], {
    env: spawnEnv(options.home),
    cwd: options.home,
    uid: options.user?.uid,
    gid: options.user?.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    out += chunk.toString('utf8');
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return {
    child,
    output: () => out,
    waitForOutput: (pattern, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(out);
          if (match) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(match[0]);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`agent output did not match ${pattern} within ${timeoutMs} ms:\n${out}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
        child.kill('SIGTERM');
      }),
  };
}

/** One publisher key per test process: packs are always signed, tests sign with their own key. */
export const TEST_PUBLISHER = newKeyFile({ publisher: 'sonde-tests' });

/** Writes SONDE_HOME/trust.json trusting the test publisher for every pack (what `sonde trust add-key` writes). */
export function trustTestPublisher(home: string, user: AgentUser | undefined): void {
  const file = path.join(home, 'trust.json');
  const store = addTrustedKey(emptyTrustStore(), TEST_PUBLISHER, { allow: ['*'] });
  writeFileSync(file, `${JSON.stringify(store, null, 2)}\n`, { mode: 0o600 });
  chownTree(file, user);
}

/** A SONDE_HOME owned by the agent user that trusts the test publisher. */
export function agentHome(user: AgentUser | undefined, prefix = 'sonde-test-'): string {
  const home = tempDirFor(user, prefix);
  trustTestPublisher(home, user);
  return home;
}

/** Signed copies (what npm would publish) of built pack folders, readable by the agent user. */
export async function signedPackCopies(dirs: readonly string[], user: AgentUser | undefined): Promise<string[]> {
  const root = tempDirFor(user, 'sonde-signed-packs-');
  chmodSync(root, 0o755);
  const copies: string[] = [];
  for (const dir of dirs) {
    const { dir: copy } = await signedPackCopy(dir, TEST_PUBLISHER, path.join(root, path.basename(dir)));
    copies.push(copy);
  }
  chownTree(root, user);
  return copies;
}

/**
 * Copies the fixture pack to a temp dir owned by the agent user, writes its
 * sonde-pack.json from the definition (as the real build does for packs) and
 * signs it with the test publisher key.
 */
export async function prepareFixturePack(
  user: AgentUser | undefined,
  /** Another version of the fixture, optionally reading more files (an update that asks for more). */
  variant: { version?: string; files?: string[] } = {},
): Promise<string> {
  const dir = tempDirFor(user, 'sonde-fixture-');
  const target = path.join(dir, 'pack-fixture');
  cpSync(FIXTURE, target, { recursive: true });
  const script = `const m = await import(${JSON.stringify(path.join(FIXTURE, 'index.js'))}); process.stdout.write(JSON.stringify(m.default.manifest, null, 2));`;
  const manifest = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8' })) as {
    version: string;
    permissions: { files?: string[] };
  };
  if (variant.version || variant.files) {
    // The code, package.json and manifest change together, as a real release's would (the agent compares them).
    const version = variant.version ?? manifest.version;
    const files = variant.files ?? manifest.permissions.files ?? [];
    const code = readFileSync(path.join(target, 'index.js'), 'utf8')
      .replace(`version: '${manifest.version}'`, `version: '${version}'`)
      .replace(`files: ['/tmp/**']`, `files: ${JSON.stringify(files)}`);
    writeFileSync(path.join(target, 'index.js'), code);
    const pkg = JSON.parse(readFileSync(path.join(target, 'package.json'), 'utf8')) as { version: string };
    writeFileSync(path.join(target, 'package.json'), `${JSON.stringify({ ...pkg, version }, null, 2)}\n`);
    manifest.version = version;
    manifest.permissions.files = files;
  }
  writeFileSync(path.join(target, 'sonde-pack.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await signPackDir(target, TEST_PUBLISHER);
  chmodSync(dir, 0o755);
  chownTree(dir, user);
  return target;
}

/**
 * Starts the real hub (`hub/dist/cli.js serve`) with `env` and resolves once it logs the port it listens on; rejects
 * with what it printed if it exits first or is not listening within 30 s.
 */
export function spawnRealHub(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [path.join(REPO, 'hub/dist/cli.js'), 'serve'], {
    env,
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub did not start:\n${out}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const match = /"port":(\d+)[^\n]*"msg":"sonde hub listening"/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]) });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`hub exited with ${code}:\n${out}`)));
  });
}
