// Real processes for the benchmarks, as test/e2e/support/stack.ts does for the
// end-to-end tests: `sonde-hub serve` on a temp SQLite file, its admin CLI, and
// a real `sonde` agent running as the unprivileged `sonde` user with real packs.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { addTrustedKey, emptyTrustStore, newKeyFile, signPackDir, signedPackCopy } from '@sonde/registry';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '..');
const HUB_CLI = path.join(REPO, 'hub/dist/cli.js');
const AGENT_CLI = path.join(REPO, 'agent/dist/cli.js');
const BENCH_PUBLISHER = newKeyFile({ publisher: 'sonde-bench' });
const NOOP_PACK = path.join(REPO, 'bench/fixtures/noop-pack');

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function run(cmd, args, options = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 120_000, maxBuffer: 64 * 1024 * 1024, ...options }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** Resident set size of one process, in bytes (0 once it is gone). */
export function rssOf(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The process and all its descendants (from /proc), so an agent's sandbox children count too. */
export function processTree(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  const all = [];
  const walk = (p) => {
    all.push(p);
    for (const child of children.get(p) ?? []) walk(child);
  };
  walk(pid);
  return all;
}

export const treeRss = (pid) => processTree(pid).reduce((sum, p) => sum + rssOf(p), 0);

/**
 * Proportional set size: each shared page (the node binary, shared libraries) counted once across the
 * processes that map it. Summed over a process tree it is the tree's real share of memory; summed RSS
 * counts the same node binary once per process.
 */
export function pssOf(pid) {
  try {
    const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export const treePss = (pid) => processTree(pid).reduce((sum, p) => sum + pssOf(p), 0);
export const MiB = 1024 * 1024;

/**
 * Starts `node hub/dist/cli.js serve` on 127.0.0.1:0 and waits for /api/v1/health.
 * `nodeArgs` lets a suite profile the hub (`--cpu-prof`).
 */
export async function startHub({
  env = {},
  nodeArgs = [],
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'sonde-bench-hub-')),
  // A hub restarted under a loaded shared host (the herd bench) took 28 s once; give it room.
  timeoutMs = 120_000,
} = {}) {
  const hubEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    SONDE_SECRET: randomBytes(32).toString('base64'),
    SONDE_DB_PATH: path.join(dataDir, 'sonde.db'),
    SONDE_ADMIN_USER: 'admin',
    SONDE_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
    SONDE_PORT: '0',
    SONDE_HOST: '127.0.0.1',
    SONDE_LOG_LEVEL: 'warn',
    // SONDE_BENCH_HUB_ENV="MALLOC_ARENA_MAX=2 LD_PRELOAD=…": variables for the hub process alone (an allocator setting,
    // say), which the clean environment above would otherwise drop.
    ...Object.fromEntries(
      (process.env.SONDE_BENCH_HUB_ENV ?? '')
        .split(' ')
        .filter((pair) => pair.includes('='))
        .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
    ),
    ...env,
  };
  const started = performance.now();
  // SONDE_BENCH_HUB_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the hub of any suite.
  const extraArgs = process.env.SONDE_BENCH_HUB_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  // As hub/Dockerfile runs it (a 2 MiB young generation).
  const child = spawn(process.execPath, ['--max-semi-space-size=2', ...extraArgs, ...nodeArgs, HUB_CLI, 'serve'], {
    env: hubEnv,
    cwd: dataDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => (out = (out + chunk).slice(-200_000)));
  child.stderr.on('data', (chunk) => (out = (out + chunk).slice(-200_000)));
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  // Port 0: the hub logs the port it got. At log level warn it does not, so read the socket table instead.
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub did not start:\n${out}`)), timeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code}:\n${out}`));
    });
    const poll = () => {
      // SONDE_DIAG_ADDR's port is the hub's too: the main listener is the other one.
      const found = listeningPort(child.pid, Number(/(\d+)$/.exec(hubEnv.SONDE_DIAG_ADDR ?? '')?.[1] ?? NaN));
      if (found) {
        clearTimeout(timer);
        resolve(found);
      } else setTimeout(poll, 5);
    };
    poll();
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    const ok = await fetch(`${url}/api/v1/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null) throw new Error(`hub exited:\n${out}`);
    await sleep(5);
  }
  const startToHealthMs = performance.now() - started;
  const cli = async (args) => {
    const result = await run(process.execPath, [HUB_CLI, ...args, '--json'], { env: hubEnv, cwd: dataDir });
    if (result.code !== 0) throw new Error(`sonde-hub ${args.join(' ')} exited ${result.code}: ${result.stdout}${result.stderr}`);
    return JSON.parse(result.stdout);
  };
  return {
    child,
    pid: child.pid,
    url,
    env: hubEnv,
    dataDir,
    startToHealthMs,
    output: () => out,
    cli,
    createAdminKey: async (name = 'bench-admin') => (await cli(['keys', 'create', '--name', name, '--role', 'admin'])).rawKey,
    /** Stops the hub; `keep` leaves the database for a restart. */
    async stop({ keep = false } = {}) {
      if (child.exitCode === null) {
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.kill('SIGTERM');
        await exited;
        clearTimeout(timer);
      }
      if (!keep) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The TCP port a process listens on (other than `except`), from /proc/<pid>/fd and /proc/net/tcp. */
function listeningPort(pid, except) {
  let inodes;
  try {
    inodes = new Set(
      readdirSync(`/proc/${pid}/fd`)
        .map((fd) => {
          try {
            return /socket:\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
          } catch {
            return undefined;
          }
        })
        .filter(Boolean),
    );
  } catch {
    return undefined;
  }
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines;
    try {
      lines = readFileSync(table, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A') continue; // 0A = LISTEN
      const port = parseInt(cols[1].split(':')[1], 16);
      if (inodes.has(cols[9]) && port !== except) return port;
    }
  }
  return undefined;
}

/** Root runs the agent as the unprivileged `sonde` user; others run it as themselves. */
export function agentUser() {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag) => Number(execFileSync('id', [flag, 'sonde'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', 'sonde']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

function chownTree(target, user) {
  if (!user) return;
  chownSync(target, user.uid, user.gid);
  if (statSync(target).isDirectory()) for (const entry of readdirSync(target)) chownTree(path.join(target, entry), user);
}

function tempDirFor(user, prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(dir, 0o700);
  chownTree(dir, user);
  return dir;
}

/** Copies the no-op bench pack to a dir the agent user can read and writes its sonde-pack.json from the definition. */
export function prepareNoopPack(user) {
  const dir = tempDirFor(user, 'sonde-bench-pack-');
  const target = path.join(dir, 'noop-pack');
  cpSync(NOOP_PACK, target, { recursive: true });
  const script = `const m = await import(${JSON.stringify(path.join(NOOP_PACK, 'index.js'))}); process.stdout.write(JSON.stringify(m.default.manifest, null, 2));`;
  const manifest = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8' });
  writeFileSync(path.join(target, 'sonde-pack.json'), `${manifest}\n`);
  chmodSync(dir, 0o755);
  chownTree(dir, user);
  return { dir: target, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every built agent pack in packs/ (a generated sonde-pack.json of kind system; integration packs run on the hub). */
export function builtPacks() {
  return readdirSync(path.join(REPO, 'packs'))
    .filter((name) => {
      try {
        return JSON.parse(readFileSync(path.join(REPO, 'packs', name, 'sonde-pack.json'), 'utf8')).kind !== 'integration';
      } catch {
        return false;
      }
    })
    .sort();
}

/**
 * Enrolls a real agent with a token from the hub CLI, installs and approves the
 * packs (names under packs/, or absolute dirs), and returns a starter.
 */
export async function prepareAgent(hub, { name = 'bench-agent', packs = ['system'], noop = false, sandbox, limits } = {}) {
  const user = agentUser();
  const home = tempDirFor(user, 'sonde-bench-agent-');
  // As agent/deploy/sonde.service runs it (a 1 MiB young generation).
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, SONDE_HOME: home, NODE_OPTIONS: '--max-semi-space-size=1' };
  const agentRun = async (args) => {
    const result = await run(process.execPath, [AGENT_CLI, ...args], { env, cwd: home, uid: user?.uid, gid: user?.gid });
    if (result.code !== 0) throw new Error(`sonde ${args.join(' ')} exited ${result.code}: ${result.stdout}${result.stderr}`);
    return result;
  };
  const token = (await hub.cli(['tokens', 'create', '--name', name, '--hub-url', hub.url])).token;
  await agentRun(['enroll', '--hub', hub.url, '--token', token, '--name', name, '--json']);
  if (sandbox || limits) {
    // agent config.json (written by enroll): `sandbox.mode` "process" runs each pack in its own sandboxed process;
    // `sandbox.limits` (e.g. idleStopMs) are per-pack runner limits.
    const file = path.join(home, 'config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    config.sandbox = { ...config.sandbox, ...(sandbox ? { mode: sandbox } : {}), ...(limits ? { limits } : {}) };
    writeFileSync(file, JSON.stringify(config, null, 2) + '\n');
  }
  const noopPack = noop ? prepareNoopPack(user) : undefined;
  // Packs are always signed: the bench signs copies with its own key and trusts it in the agent.
  const trustFile = path.join(home, 'trust.json');
  writeFileSync(trustFile, JSON.stringify(addTrustedKey(emptyTrustStore(), BENCH_PUBLISHER, { allow: ['*'] }), null, 2), { mode: 0o600 });
  chownTree(trustFile, user);
  const signedRoot = tempDirFor(user, 'sonde-bench-signed-');
  chmodSync(signedRoot, 0o755);
  const dirs = [];
  for (const p of packs) dirs.push((await signedPackCopy(path.join(REPO, 'packs', p), BENCH_PUBLISHER, path.join(signedRoot, p))).dir);
  if (noopPack) {
    await signPackDir(noopPack.dir, BENCH_PUBLISHER);
    dirs.push(noopPack.dir);
  }
  chownTree(signedRoot, user);
  if (noopPack) chownTree(noopPack.dir, user);
  const names = [...packs.map((p) => JSON.parse(readFileSync(path.join(REPO, 'packs', p, 'sonde-pack.json'), 'utf8')).name)];
  if (noopPack) names.push('bench');
  if (dirs.length) {
    await agentRun(['packs', 'install', ...dirs, '--json']);
    await agentRun(['packs', 'approve', ...names, '--json']);
  }
  let child;
  let out = '';
  return {
    name,
    home,
    packNames: names,
    get pid() {
      return child?.pid;
    },
    output: () => out,
    /** `nodeArgs` lets a suite profile the agent (`--cpu-prof`, written into its home). */
    start(nodeArgs = []) {
      child = spawn(process.execPath, [...nodeArgs, AGENT_CLI, 'start', '--json-logs'], {
        env,
        cwd: home,
        uid: user?.uid,
        gid: user?.gid,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (chunk) => (out = (out + chunk).slice(-100_000)));
      child.stderr.on('data', (chunk) => (out = (out + chunk).slice(-100_000)));
      return child;
    },
    async stop() {
      if (child && child.exitCode === null && child.signalCode === null) {
        await new Promise((resolve) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        });
      }
      noopPack?.cleanup();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Polls the REST fleet view until the named agent is not offline. */
export async function waitOnline(hub, key, name, timeoutMs = 30_000, intervalMs = 10) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${hub.url}/api/v1/agents`, { headers: { authorization: `Bearer ${key}` } });
    const agents = response.ok ? await response.json() : [];
    const mine = agents.find((a) => a.name === name);
    if (mine && mine.status !== 'offline') return mine;
    if (Date.now() > deadline) throw new Error(`agent ${name} not online: ${JSON.stringify(agents)}`);
    await sleep(intervalMs);
  }
}

/** The official MCP SDK client over Streamable HTTP. */
export async function mcpClient(hub, key, name = 'sonde-bench') {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${hub.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }),
  );
  return client;
}

/** Calls a tool and throws when the result is an error, so a benchmark never times failures. */
export async function callOk(client, name, args) {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content).slice(0, 500)}`);
  return result;
}
