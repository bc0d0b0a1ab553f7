// Issue 23: one hub's figures on SQLite and on PostgreSQL, measured in the same minutes, the backends alternating
// (SQLite first in odd rounds, PostgreSQL first in even ones) so that a change in the machine's load hits both.
// Per backend and round: `sonde-hub serve` start → first 200 on /api/v1/health on an existing database (median of 3
// restarts, and the hub's CPU to get there), RSS idle, MCP tools/call `bench_noop` (a simulated agent that answers at
// once: bench/sim-agent.mjs) with 8 callers in a closed loop for a fixed time (calls/s, p50, p99, hub CPU per call),
// and RSS after N calls. PostgreSQL: a fresh database per round on SONDE_BENCH_POSTGRES_URL (default
// postgres://postgres@127.0.0.1:5432/postgres); SQLite: a temp file.
//
//   nice node bench/store-compare.mjs [--rounds 2] [--seconds 10] [--calls 10000]
// The report is printed (a Markdown table, then JSON) and written to bench/results/store-compare-latest.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpuMsOf, summarize } from './lib.mjs';
import { closedLoop, rawCaller } from './mcp-raw.mjs';
import { connectSimAgent, enrollOverHttp, keyPool } from './sim-agent.mjs';
import { MiB, REPO, rssOf, sleep, startHub } from './stack.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : fallback);
const rounds = option('--rounds', 2);
const seconds = option('--seconds', 10);
const calls = option('--calls', 10_000);
const postgresAdmin = process.env.SONDE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const log = (line) => process.stderr.write(`store-compare: ${line}\n`);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const { createTestDatabase, postgresReachable } = await import(pathToFileURL(path.join(REPO, 'hub/dist/store/testing.js')).href);
const reachable = await postgresReachable(postgresAdmin);
if (!reachable.ok) {
  console.error(`no PostgreSQL at ${postgresAdmin}: ${reachable.reason}`);
  process.exit(2);
}
const bench = (await import(pathToFileURL(path.join(REPO, 'bench/fixtures/noop-pack/index.js')).href)).default.manifest;
const [keys] = await keyPool(1);

async function measure(backend) {
  const database = backend === 'postgres' ? await createTestDatabase(postgresAdmin) : undefined;
  const env = { SONDE_LOG_LEVEL: 'error', ...(database ? { SONDE_DATABASE_URL: database.url } : {}) };
  const load0 = os.loadavg()[0];
  let hub = await startHub({ env, timeoutMs: 120_000 });
  const { dataDir } = hub;
  const fixed = { ...env, SONDE_SECRET: hub.env.SONDE_SECRET, SONDE_ADMIN_PASSWORD: hub.env.SONDE_ADMIN_PASSWORD };
  const firstStartMs = hub.startToHealthMs;
  await hub.stop({ keep: true });
  const starts = [];
  const startCpu = [];
  let session;
  try {
    for (let i = 0; i < 3; i++) {
      hub = await startHub({ env: fixed, dataDir, timeoutMs: 120_000 });
      starts.push(hub.startToHealthMs);
      startCpu.push(cpuMsOf(hub.pid));
      if (i < 2) await hub.stop({ keep: true });
    }
    await sleep(2_000);
    const idleRss = rssOf(hub.pid);
    const key = await hub.createAdminKey();
    const agent = await enrollOverHttp(hub.url, key, `store-${backend}`, keys);
    const stats = { heartbeats: 0, probes: 0, rejects: 0, closed: 0, badFrames: 0 };
    session = await connectSimAgent({
      wsUrl: `${hub.url.replace('http', 'ws')}/ws/agent`,
      agent,
      caPem: agent.caPem,
      manifests: [bench],
      stats,
    });
    const args = { agent: agent.name };
    const callers = Array.from({ length: 8 }, () => rawCaller(hub, key));
    for (let tries = 0; ; tries++) {
      try {
        await callers[0].call('bench_noop', args);
        break;
      } catch (error) {
        if (tries > 500) throw error;
        await sleep(10);
      }
    }
    await closedLoop(8, 2_000, (c) => callers[c].call('bench_noop', args)); // warm-up: JIT, pools
    const cpu0 = cpuMsOf(hub.pid);
    const loop = await closedLoop(8, seconds * 1000, (c) => callers[c].call('bench_noop', args));
    const cpuMs = cpuMsOf(hub.pid) - cpu0;
    const latency = summarize(loop.samples);
    // Up to N calls in all (the warm-up and the timed loop count), then RSS once the hub has had a moment.
    let done = loop.calls;
    let next = done;
    await Promise.all(
      callers.map(async (caller) => {
        while (next < calls) {
          next += 1;
          await caller.call('bench_noop', args).catch(() => undefined);
          done += 1;
        }
      }),
    );
    await sleep(2_000);
    const result = {
      backend,
      firstStartMs: Math.round(firstStartMs),
      startMs: Math.round(median(starts)),
      startCpuMs: Math.round(median(startCpu)),
      idleRssMiB: +(idleRss / MiB).toFixed(1),
      callsPerSecond: Math.round(loop.perSecond),
      p50Ms: +latency.p50.toFixed(2),
      p99Ms: +latency.p99.toFixed(2),
      hubCpuUsPerCall: Math.round((cpuMs * 1000) / Math.max(1, loop.calls)),
      errors: loop.errors,
      rssAfterCallsMiB: +(rssOf(hub.pid) / MiB).toFixed(1),
      callsForRss: Math.max(done, calls),
      load1: [+load0.toFixed(1), +os.loadavg()[0].toFixed(1)],
    };
    log(JSON.stringify(result));
    return result;
  } finally {
    session?.close();
    await hub.stop();
    await database?.drop();
  }
}

const results = [];
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? ['sqlite', 'postgres'] : ['postgres', 'sqlite'];
  for (const backend of order) results.push({ round: round + 1, ...(await measure(backend)) });
}
const line = (r) =>
  `| ${r.backend === 'sqlite' ? 'SQLite' : 'PostgreSQL'} | ${r.round} | ${r.callsPerSecond} | ${r.p50Ms} / ${r.p99Ms} ms | ${r.hubCpuUsPerCall} µs | ${r.startMs} ms (${r.startCpuMs} ms CPU) | ${r.idleRssMiB} MiB | ${r.rssAfterCallsMiB} MiB | ${r.load1.join(' → ')} |`;
console.log(
  [
    `| store | round | calls/s, 8 callers | p50 / p99 | hub CPU per call | start → /health, existing database | RSS idle | RSS after ${calls.toLocaleString('en-US')} calls | 1-min load |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...results.map(line),
  ].join('\n'),
);
const report = { at: new Date().toISOString(), cpus: os.cpus().length, node: process.version, seconds, calls, results };
mkdirSync(path.join(REPO, 'bench/results'), { recursive: true });
writeFileSync(path.join(REPO, 'bench/results/store-compare-latest.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
