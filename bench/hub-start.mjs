// Hub start → first `GET /api/v1/health` 200 on an existing database, for one or more builds side by side:
// the hub's CPU (utime + stime from /proc, all threads) and wall time, starts of the builds interleaved so each sees
// the same machine in the same minutes (bench/README.md, "Hub start-up: one bundle").
//
//   node bench/hub-start.mjs [--runs 10] [--node /path/to/node] [--node-args "--max-semi-space-size=2"] \
//        NAME=path/to/hub/dist/cli.js[,node-arg…] [NAME=…]
//
// Node arguments after a build's path (comma-separated) replace --node-args for that build: `gc2=hub/dist/cli.js,
// --max-semi-space-size=2 gc16=hub/dist/cli.js,--max-semi-space-size=16` compares one build under two young generations.
// Each build first starts once on its own new database (migrations, CA key), which is then the existing database of
// every measured start. Prints one line per start and the medians; `--json` prints them as JSON instead.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cpuMsOf } from './lib.mjs';

const { values, positionals } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    node: { type: 'string', default: process.execPath },
    'node-args': { type: 'string', default: '--max-semi-space-size=2' },
    json: { type: 'boolean' },
    // Also read the hub's RSS this long after its first answer (0: not read).
    'rss-after': { type: 'string', default: '0' },
  },
  allowPositionals: true,
});
const builds = positionals.map((spec) => {
  const at = spec.indexOf('=');
  if (at < 1) throw new Error(`expected NAME=path/to/cli.js, got ${spec}`);
  const [cli, ...args] = spec.slice(at + 1).split(',');
  return { name: spec.slice(0, at), cli: path.resolve(cli), args: args.length > 0 ? args : undefined, cpu: [], wall: [], rss: [] };
});
if (builds.length === 0) throw new Error('name at least one build: NAME=path/to/hub/dist/cli.js');
const runs = Number(values.runs);
const nodeArgs = values['node-args'].split(' ').filter(Boolean);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function start(build, env) {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(values.node, [...(build.args ?? nodeArgs), build.cli, 'serve'], {
    env: { ...env, SONDE_PORT: String(port) },
    cwd: build.dataDir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  child.stderr.on('data', (chunk) => (errors += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let done = false;
  void exited.then(() => (done = true));
  for (;;) {
    if (done) throw new Error(`${build.name} exited before answering:\n${errors}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/health`);
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(2);
  }
  const result = { cpuMs: cpuMsOf(child.pid), wallMs: performance.now() - started };
  const rssAfter = Number(values['rss-after']);
  if (rssAfter > 0) {
    await sleep(rssAfter);
    result.rssMiB = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024;
  }
  child.kill('SIGTERM');
  await exited;
  return result;
}

for (const build of builds) {
  build.dataDir = mkdtempSync(path.join(os.tmpdir(), 'sonde-hub-start-'));
  build.env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? os.homedir(),
    SONDE_SECRET: randomBytes(32).toString('base64'),
    SONDE_DB_PATH: path.join(build.dataDir, 'sonde.db'),
    SONDE_ADMIN_USER: 'admin',
    SONDE_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
    SONDE_HOST: '127.0.0.1',
    SONDE_LOG_LEVEL: 'warn',
  };
  await start(build, build.env); // creates the database: the measured starts open an existing one
}
const load = [os.loadavg()[0]];
for (let i = 0; i < runs; i++) {
  // Alternate which build goes first, so neither always follows the other.
  const order = i % 2 === 0 ? builds : [...builds].reverse();
  for (const build of order) {
    const { cpuMs, wallMs, rssMiB } = await start(build, build.env);
    build.cpu.push(cpuMs);
    build.wall.push(wallMs);
    if (rssMiB !== undefined) build.rss.push(rssMiB);
    const rssText = rssMiB === undefined ? '' : `, RSS ${rssMiB.toFixed(1)} MiB`;
    if (!values.json)
      console.log(`${build.name.padEnd(12)} run ${i + 1}: CPU ${cpuMs.toFixed(0)} ms, wall ${wallMs.toFixed(0)} ms${rssText}`);
  }
}
load.push(os.loadavg()[0]);
for (const build of builds) rmSync(build.dataDir, { recursive: true, force: true });
const summary = builds.map((b) => ({
  name: b.name,
  cli: b.cli,
  nodeArgs: b.args ?? nodeArgs,
  cpuMs: b.cpu,
  wallMs: b.wall,
  medianCpuMs: median(b.cpu),
  medianWallMs: median(b.wall),
  ...(b.rss.length > 0 ? { rssMiB: b.rss, medianRssMiB: median(b.rss) } : {}),
}));
if (values.json) console.log(JSON.stringify({ node: process.versions.node, runs, nodeArgs, load1: load, builds: summary }, null, 2));
else {
  console.log(`node ${values.node} ${nodeArgs.join(' ')}; ${runs} starts each; 1-min load ${load.map((l) => l.toFixed(1)).join(' → ')}`);
  for (const b of summary)
    console.log(
      `${b.name.padEnd(12)} median CPU ${b.medianCpuMs.toFixed(0)} ms (${Math.min(...b.cpuMs)}–${Math.max(...b.cpuMs)}), ` +
        `median wall ${b.medianWallMs.toFixed(0)} ms${b.medianRssMiB === undefined ? '' : `, median RSS ${b.medianRssMiB.toFixed(1)} MiB`}`,
    );
}
