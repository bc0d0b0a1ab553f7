// Issue 23: simulated agents spread over 3 hubs, PostgreSQL for state and NATS JetStream for routing and presence.
// Three real `sonde-hub serve` processes on one fresh PostgreSQL database (SONDE_BENCH_POSTGRES_URL, default
// postgres://postgres@127.0.0.1:5432/postgres) joined over NATS (SONDE_BENCH_NATS_URL, default nats://127.0.0.1:4222).
// Agents are bench/sim-agent.mjs simulations (the real signed protocol, heartbeats at the hub's interval, probes
// answered at once), agent i on hub i % 3, in child processes (SONDE_BENCH_PROCS_PER_HUB per hub, default 2; each
// child starts on a source address of its own, since `ulimit -n` and the ephemeral ports bound what one process holds).
// One agent enrolls over HTTP (for the CA); the rest are written into the database as enrollment leaves them, in
// batched transactions, before the hubs that serve them start. The ramp adds agents in steps (default
// 10,000, 20,000, 30,000), each time-boxed (SONDE_BENCH_STEP_BUDGET_S, default 240 s); at each step, once settled:
// agents connected per hub (each hub's /metrics), hub RSS and open descriptors, CPU of the hubs, PostgreSQL and
// nats-server processes over the probe window, PostgreSQL connections, MCP probe p50/p99 with callers on every hub
// to random agents (same-hub and cross-hub mixed, reported apart), `health_check` over every agent from hub 1, and
// the load average. The ramp stops at the first step that does not come up within its budget, and says why.
//
//   nice node bench/multi-hub-fleet.mjs                      # 10k, 20k, 30k
//   nice node bench/multi-hub-fleet.mjs --steps 300,600      # smaller steps (also SONDE_BENCH_STEPS)
//   node bench/multi-hub-fleet.mjs --smoke                   # 30, 60 agents
//   node bench/multi-hub-fleet.mjs --hubs 1 --store sqlite --steps 1500 --ramp-only   # the registration rate only
// `--hubs N` (default 3; 1 = a single hub, no NATS) and `--store postgres|sqlite` (SQLite: one hub) compare the
// registration path of each setup; every step also reports registrations/s over its ramp and the CPU (hubs, this
// database's PostgreSQL server processes, the whole PostgreSQL, nats-server) and the PostgreSQL work (commits,
// rollbacks, rows read and written, from pg_stat_database) per registration. `--ramp-only` skips the probes.
// The report is printed and written to bench/results/multi-hub-fleet-latest.json (`--out FILE` elsewhere).
import { randomBytes, randomUUID, createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { summarize } from './lib.mjs';
import { rawCaller } from './mcp-raw.mjs';
import { enrollOverHttp, keyPool, simFleet } from './sim-agent.mjs';
import { MiB, REPO, rssOf, sleep, startHub } from './stack.mjs';

const argv = process.argv.slice(2);
const arg = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const smoke = argv.includes('--smoke');
const steps = (arg('--steps') ?? process.env.SONDE_BENCH_STEPS ?? (smoke ? '30,60' : '10000,20000,30000')).split(',').map(Number);
const stepBudgetMs = Number(process.env.SONDE_BENCH_STEP_BUDGET_S ?? (smoke ? 60 : 240)) * 1000;
const procsPerHub = Number(process.env.SONDE_BENCH_PROCS_PER_HUB) || 2;
// Handshakes in flight per hub: each one must be registered within the hub's 10 s register window.
const inFlight = Number(process.env.SONDE_BENCH_IN_FLIGHT) || (smoke ? 10 : 60);
const probeCalls = Number(process.env.SONDE_BENCH_PROBES) || (smoke ? 30 : 300);
const natsUrl = process.env.SONDE_BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const postgresAdmin = process.env.SONDE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const HUBS = Number(arg('--hubs') ?? 3);
const storeKind = arg('--store') ?? 'postgres';
const rampOnly = argv.includes('--ramp-only');
const outFile = arg('--out') ?? path.join(REPO, 'bench/results/multi-hub-fleet-latest.json');
if (!['postgres', 'sqlite'].includes(storeKind) || !(HUBS >= 1) || (storeKind === 'sqlite' && HUBS !== 1)) {
  console.error('--store postgres|sqlite, --hubs N (SQLite: 1)');
  process.exit(2);
}
const clustered = HUBS > 1;
const log = (line) => process.stderr.write(`multi-hub-fleet: ${line}\n`);
const load = (p) => import(pathToFileURL(path.join(REPO, 'hub/dist', p)).href);

async function natsUp() {
  const { hostname, port } = new URL(natsUrl);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 4222) });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** CPU ticks (utime + stime, 1/100 s) of each process whose command name is `comm` (the machine's whole server), by pid. */
function ticksOf(comm) {
  const byPid = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== comm) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byPid.set(entry, Number(fields[11]) + Number(fields[12]));
    } catch {
      // the process ended while we looked
    }
  }
  return byPid;
}

/** Ticks used between two `ticksOf` readings: processes that ended meanwhile are not counted, new ones from 0. */
function ticksBetween(before, after) {
  let sum = 0;
  for (const [pid, ticks] of after) sum += ticks - (before.get(pid) ?? 0);
  return sum;
}

function pidTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function fdCount(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** CPU of the hubs, the PostgreSQL and nats-server processes, as % of one core, between now and `end()`. */
function cpuWindow(hubs) {
  const t0 = performance.now();
  const hub0 = hubs.map((h) => pidTicks(h.pid));
  const pg0 = ticksOf('postgres');
  const nats0 = ticksOf('nats-server');
  return () => {
    const ms = performance.now() - t0;
    const pct = (ticks) => (ticks * 10 * 100) / ms;
    return {
      wallMs: ms,
      hubs: hubs.map((h, i) => pct(pidTicks(h.pid) - hub0[i])),
      postgres: pct(ticksBetween(pg0, ticksOf('postgres'))),
      nats: pct(ticksBetween(nats0, ticksOf('nats-server'))),
    };
  };
}

/** CPU ticks of the PostgreSQL server processes serving `database` (the hubs' pools and listeners), by pid. */
async function backendTicks(admin, database) {
  const { rows } = await admin.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database]);
  return new Map(rows.map((r) => [String(r.pid), pidTicks(r.pid)]));
}

const PG_COUNTERS = ['xact_commit', 'xact_rollback', 'tup_returned', 'tup_fetched', 'tup_inserted', 'tup_updated', 'tup_deleted'];
async function pgCounters(admin, database) {
  const { rows } = await admin.query(`SELECT ${PG_COUNTERS.join(', ')} FROM pg_stat_database WHERE datname = $1`, [database]);
  return Object.fromEntries(PG_COUNTERS.map((k) => [k, Number(rows[0]?.[k] ?? 0)]));
}

/**
 * CPU (ms) of the hubs, of this database's PostgreSQL processes, of all PostgreSQL and of nats-server between now and
 * `end()`, and this database's statistics over the same window (pg_stat_database lags up to its 500 ms report delay:
 * `end` waits that long first).
 */
async function rampWindow(hubs, admin, database) {
  const hub0 = hubs.map((h) => pidTicks(h.pid));
  const pg0 = ticksOf('postgres');
  const nats0 = ticksOf('nats-server');
  const backends0 = admin ? await backendTicks(admin, database) : new Map();
  const counters0 = admin ? await pgCounters(admin, database) : undefined;
  return async () => {
    const hubTicks = hubs.map((h, i) => pidTicks(h.pid) - hub0[i]);
    const backends = admin ? ticksBetween(backends0, await backendTicks(admin, database)) : 0;
    const pgAll = ticksBetween(pg0, ticksOf('postgres'));
    const nats = ticksBetween(nats0, ticksOf('nats-server'));
    let counters;
    if (admin) {
      await sleep(600);
      const after = await pgCounters(admin, database);
      counters = Object.fromEntries(PG_COUNTERS.map((k) => [k, after[k] - counters0[k]]));
    }
    return { hubMs: hubTicks.map((t) => t * 10), backendMs: backends * 10, postgresMs: pgAll * 10, natsMs: nats * 10, counters };
  };
}

/** One hub's Prometheus figures: the agents it sees connected (on any hub of the cluster) and online. */
async function hubCounts(hub) {
  try {
    const text = await (await fetch(`${hub.url}/metrics`, { signal: globalThis.AbortSignal.timeout(20_000) })).text();
    const value = (re) => Number(re.exec(text)?.[1] ?? NaN);
    return { connected: value(/^sonde_agents_connected (\S+)/m), online: value(/^sonde_agents\{status="online"\} (\S+)/m) };
  } catch (error) {
    return { connected: NaN, online: NaN, error: error.message };
  }
}

/**
 * Agents and their agent keys written straight into the database as enrollment leaves them (no certificate: they
 * authenticate with the key), in transactions of `batch`, one at a time. 30,000 CSR enrollments would each cost
 * an RSA signature in the hub's JS CA; the hubs' behaviour once agents exist is what this bench measures.
 * One at a time: the PostgreSQL store's transactions are SERIALIZABLE, and several 500-row inserts into the same
 * indexes at once fail each other as read/write pivots until the store's retries give up (seen on a quiet host).
 */
async function seed(location, count, keys, { batch = 500, parallel = 1 } = {}) {
  const { openHubStore } = await load('store/open.js');
  const store = await openHubStore(location);
  const now = new Date().toISOString();
  const agents = Array.from({ length: count }, (_, i) => ({
    id: randomUUID(),
    name: `sim-${i}`,
    apiKey: `sonde_agent_${randomBytes(24).toString('base64url')}`,
    keys: keys[i % keys.length],
  }));
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < agents.length) {
        const slice = agents.slice(next, next + batch);
        next += batch;
        await store.transaction(async (tx) => {
          for (const a of slice) {
            await tx.agents.create({
              id: a.id,
              name: a.name,
              enrolledAt: now,
              certPem: null,
              certSerial: null,
              certNotAfter: null,
              publicKeyPem: a.keys.publicKeyPem,
            });
            await tx.apiKeys.create({
              id: randomUUID(),
              name: `agent:${a.name}`,
              type: 'agent',
              role: 'member',
              hash: createHash('sha256').update(a.apiKey).digest('hex'),
              prefix: a.apiKey.slice(0, 8),
              policy: { allowedAgents: [], allowedProbes: [], allowedClients: [] },
              agentId: a.id,
              createdAt: now,
              lastUsedAt: null,
              revokedAt: null,
            });
          }
        });
      }
    }),
  );
  await store.close();
  return agents;
}

async function pgConnections(url) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: postgresAdmin });
  await client.connect();
  try {
    const database = new URL(url).pathname.slice(1);
    const { rows } = await client.query(
      `SELECT count(*) FILTER (WHERE datname = $1) AS ours, count(*) AS total, current_setting('max_connections') AS max FROM pg_stat_activity`,
      [database],
    );
    return { ours: Number(rows[0].ours), total: Number(rows[0].total), max: Number(rows[0].max) };
  } finally {
    await client.end();
  }
}

function limitsNote(report, step) {
  // What the machine looked like when a step did not come up: the caller reads it with the failures.
  return {
    step,
    load: os.loadavg().map((l) => +l.toFixed(1)),
    freeMiB: Math.round(os.freemem() / MiB),
    hubs: report.hubs.map((h) => ({ alive: h.child.exitCode === null, rssMiB: Math.round(rssOf(h.pid) / MiB), fds: fdCount(h.pid) })),
  };
}

/**
 * A hub start, tried up to 3 times: on a heavily loaded host a hub can miss Fastify's plugin timeout (10 s) while its
 * cluster plugin connects to NATS and makes its buckets; each failure is kept for the report.
 */
async function startHubRetrying(env, failures) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startHub({ env, timeoutMs: 180_000, ...(sqliteDir ? { dataDir: sqliteDir } : {}) });
    } catch (error) {
      failures.push(
        `${env.SONDE_HUB_ID} start ${attempt}: ${error.message.split('\n').find((l) => l.includes('SONDE_ERR')) ?? error.message.slice(0, 200)}`,
      );
      log(failures[failures.length - 1]);
      if (attempt === 3) throw error;
    }
  }
}

if (clustered && !(await natsUp())) {
  console.error(`no NATS server on ${natsUrl} (bash .ci/services.sh starts one)`);
  process.exit(2);
}
const { createTestDatabase, postgresReachable } = await load('store/testing.js');
let database;
let admin;
const sqliteDir = storeKind === 'sqlite' ? mkdtempSync(path.join(os.tmpdir(), 'sonde-bench-fleet-')) : undefined;
if (storeKind === 'postgres') {
  const reachable = await postgresReachable(postgresAdmin);
  if (!reachable.ok) {
    console.error(`no PostgreSQL at ${postgresAdmin}: ${reachable.reason}`);
    process.exit(2);
  }
  database = await createTestDatabase(postgresAdmin);
  const { default: pg } = await import('pg');
  admin = new pg.Client({ connectionString: postgresAdmin });
  // Dropping the database at the end (WITH FORCE) ends other sessions; an unlistened 'error' would hide the real one.
  admin.on('error', (error) => log(`admin connection: ${error.message}`));
  await admin.connect();
} else {
  database = { url: path.join(sqliteDir, 'sonde.db'), drop: async () => rmSync(sqliteDir, { recursive: true, force: true }) };
}
const databaseName = storeKind === 'postgres' ? new URL(database.url).pathname.slice(1) : undefined;
const prefix = `bench${randomBytes(3).toString('hex')}`;
const shared = {
  SONDE_SECRET: randomBytes(32).toString('base64'),
  ...(storeKind === 'postgres' ? { SONDE_DATABASE_URL: database.url } : {}),
  ...(clustered ? { SONDE_NATS_URL: natsUrl, SONDE_NATS_PREFIX: prefix } : {}),
  SONDE_LOG_LEVEL: 'error',
  ...(process.env.SONDE_BENCH_HEARTBEAT_MS ? { SONDE_HEARTBEAT_MS: process.env.SONDE_BENCH_HEARTBEAT_MS } : {}),
};
const report = { hubs: [], fleets: [] };
const result = {
  at: new Date().toISOString(),
  hubs: HUBS,
  store: storeKind,
  inFlightPerHub: inFlight,
  build: (() => {
    try {
      return execFileSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      return null;
    }
  })(),
  cpus: os.cpus().length,
  memGiB: +(os.totalmem() / 1024 ** 3).toFixed(1),
  node: process.version,
  openFilesLimit: /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? null,
  hubStartFailures: [],
  steps: [],
  stoppedBecause: null,
};
try {
  const total = steps[steps.length - 1];
  const keys = await keyPool(8);
  // First boot (CA, salt, admin) and one real enrollment, for the CA certificate the simulated agents pin.
  const first = await startHubRetrying({ ...shared, SONDE_HUB_ID: 'hub-1' }, result.hubStartFailures);
  const adminKey = await first.createAdminKey();
  const enrolled = await enrollOverHttp(first.url, adminKey, 'enrolled-0', keys[0]);
  await first.stop({ keep: Boolean(sqliteDir) });
  let t0 = performance.now();
  const seeded = await seed(database.url, total - 1, keys);
  result.seedSeconds = +((performance.now() - t0) / 1000).toFixed(1);
  log(`seeded ${seeded.length} agents in ${result.seedSeconds} s`);
  const agents = [enrolled, ...seeded];

  t0 = performance.now();
  report.hubs = await Promise.all(
    Array.from({ length: HUBS }, (_, h) => startHubRetrying({ ...shared, SONDE_HUB_ID: `hub-${h + 1}` }, result.hubStartFailures)),
  );
  result.hubStartSeconds = report.hubs.map((h) => +(h.startToHealthMs / 1000).toFixed(1));
  log(`${HUBS} hub(s) (${storeKind}) healthy on ${total} stored agents: ${result.hubStartSeconds.join(' / ')} s`);
  const bench = (await import(pathToFileURL(path.join(REPO, 'bench/fixtures/noop-pack/index.js')).href)).default.manifest;
  report.fleets = await Promise.all(
    report.hubs.map((hub, h) =>
      simFleet({
        processes: procsPerHub,
        keys,
        wsUrl: `${hub.url.replace('http', 'ws')}/ws/agent`,
        caPem: enrolled.caPem,
        manifests: [bench],
        addressBase: 10 + h * procsPerHub,
      }),
    ),
  );
  const callers = report.hubs.map((hub) => rawCaller(hub, adminKey));
  const hubOf = (i) => i % HUBS;
  let connected = 0;
  const registered = report.fleets.map(() => 0);
  for (const step of steps) {
    const slice = agents.slice(connected, step);
    log(`step ${step}: connecting ${slice.length} more (budget ${stepBudgetMs / 1000} s)`);
    t0 = performance.now();
    const ramp = await rampWindow(report.hubs, admin, databaseName);
    const batches = await Promise.all(
      report.fleets.map((fleet, h) =>
        fleet.connect(
          slice.filter((_, k) => hubOf(connected + k) === h),
          inFlight,
          stepBudgetMs,
        ),
      ),
    );
    const rampMs = performance.now() - t0;
    const rampSeconds = +(rampMs / 1000).toFixed(1);
    const rampCost = await ramp();
    batches.forEach((b, h) => (registered[h] += b.connected));
    connected = step;
    await sleep(smoke ? 2_000 : 10_000); // settle: heartbeats, presence watches, GC
    const counts = await Promise.all(report.hubs.map(hubCounts));
    const dropped = await Promise.all(report.fleets.map(async (f) => (await f.stats()).dropped ?? 0));
    const row = {
      step,
      rampSeconds,
      registeredThisStep: batches.reduce((s, b) => s + b.connected, 0),
      wanted: slice.length,
      registrationsPerSecond: +(batches.reduce((s, b) => s + b.connected, 0) / (rampMs / 1000)).toFixed(1),
      failedAttempts: batches.reduce((s, b) => s + b.failed, 0),
      firstFailures: batches.flatMap((b) => b.failures).slice(0, 3),
      // Sockets registered on each hub and still open (the simulated agents' side of each hub's share).
      connectedPerHub: registered.map((n, h) => n - dropped[h]),
      // What each hub's /metrics reports for the whole cluster: connected anywhere, online.
      connectedSeenByHub: counts.map((c) => c.connected),
      onlineSeenByHub: counts.map((c) => c.online),
      hubRssMiB: report.hubs.map((h) => Math.round(rssOf(h.pid) / MiB)),
      hubFds: report.hubs.map((h) => fdCount(h.pid)),
      hubsAlive: report.hubs.map((h) => h.child.exitCode === null),
      load: os.loadavg().map((l) => +l.toFixed(1)),
    };
    // What one registration cost over the ramp (failed attempts included: they cost the hubs too).
    const per = (value) => +(value / Math.max(1, row.registeredThisStep)).toFixed(2);
    row.perRegistration = {
      hubCpuMs: per(rampCost.hubMs.reduce((a, b) => a + b, 0)),
      postgresBackendCpuMs: per(rampCost.backendMs),
      postgresAllCpuMs: per(rampCost.postgresMs),
      natsServerCpuMs: per(rampCost.natsMs),
      ...(rampCost.counters ? { postgres: Object.fromEntries(Object.entries(rampCost.counters).map(([k, v]) => [k, per(v)])) } : {}),
    };
    log(
      `step ${step}: +${row.registeredThisStep}/${row.wanted} in ${rampSeconds} s (${row.registrationsPerSecond}/s); per hub ${row.connectedPerHub.join('/')}; RSS ${row.hubRssMiB.join('/')} MiB; load ${row.load[0]}`,
    );
    log(`step ${step}: per registration ${JSON.stringify(row.perRegistration)}`);
    const online = row.connectedPerHub.reduce((sum, c) => sum + c, 0);
    if (row.registeredThisStep < row.wanted) {
      result.steps.push(row);
      result.stoppedBecause = { ...limitsNote(report, step), online, failures: row.firstFailures };
      break;
    }
    if (rampOnly) {
      result.steps.push(row);
      continue;
    }
    // Probes: callers on every hub in turn, each to a random agent (a third same-hub, two thirds cross-hub), paced
    // over one heartbeat interval so the tail sees the whole heartbeat cycle.
    const stats0 = await Promise.all(report.fleets.map((f) => f.stats()));
    const heartbeatMs = stats0[0].heartbeatMs ?? 15_000;
    const spacingMs = smoke ? 0 : heartbeatMs / probeCalls;
    const window = cpuWindow(report.hubs);
    const samples = { same: [], cross: [] };
    let failed = 0;
    for (let c = 0; c < probeCalls; c++) {
      const from = c % HUBS;
      const target = Math.floor(Math.random() * step);
      const started = performance.now();
      try {
        await callers[from].call('bench_noop', { agent: agents[target].name });
        samples[hubOf(target) === from ? 'same' : 'cross'].push(performance.now() - started);
      } catch (error) {
        failed += 1;
        if (failed <= 2) log(`probe to ${agents[target].name} from hub ${from + 1} failed: ${error.message.slice(0, 200)}`);
      }
      const wait = spacingMs - (performance.now() - started);
      if (wait > 0) await sleep(wait);
    }
    const cpu = window();
    const stats1 = await Promise.all(report.fleets.map((f) => f.stats()));
    const beats = stats1.reduce((s, x) => s + x.heartbeats, 0) - stats0.reduce((s, x) => s + x.heartbeats, 0);
    const all = summarize([...samples.same, ...samples.cross]);
    const same = summarize(samples.same);
    const cross = summarize(samples.cross);
    const r = (v) => +v.toFixed(1);
    Object.assign(row, {
      probes: { n: all.n, failed, p50: r(all.p50), p99: r(all.p99), max: r(all.max) },
      probesSameHub: { n: same.n, p50: r(same.p50), p99: r(same.p99) },
      probesCrossHub: { n: cross.n, p50: r(cross.p50), p99: r(cross.p99) },
      cpuPercent: { hubs: cpu.hubs.map(r), postgres: r(cpu.postgres), natsServer: r(cpu.nats) },
      heartbeatsPerSecond: Math.round(beats / (cpu.wallMs / 1000)),
      postgresConnections: await pgConnections(database.url).catch((error) => ({ error: error.message })),
    });
    log(
      `step ${step}: probes p50 ${row.probes.p50} / p99 ${row.probes.p99} ms (${failed} failed); CPU hubs ${row.cpuPercent.hubs.join('/')} %, postgres ${row.cpuPercent.postgres} %, nats ${row.cpuPercent.natsServer} %`,
    );
    t0 = performance.now();
    const answer = await callers[0]
      .call('health_check', { packs: ['bench'], deadlineMs: 40_000 })
      .catch((error) => ({ content: [{ text: String(error.message) }] }));
    const text = answer.content?.[0]?.text ?? '';
    let summary;
    try {
      summary = JSON.parse(text).summary;
    } catch {
      summary = { error: text.slice(0, 400) };
    }
    row.healthCheck = { fromHub: 1, seconds: +((performance.now() - t0) / 1000).toFixed(2), summary };
    row.hubRssAfterMiB = report.hubs.map((h) => Math.round(rssOf(h.pid) / MiB));
    row.loadAfter = os.loadavg().map((l) => +l.toFixed(1));
    log(`step ${step}: health_check from hub 1 in ${row.healthCheck.seconds} s: ${JSON.stringify(summary)}`);
    result.steps.push(row);
  }
  const stats = await Promise.all(report.fleets.map((f) => f.stats()));
  result.simAgents = Object.fromEntries(
    ['heartbeats', 'probes', 'rejects', 'closed', 'dropped', 'badFrames'].map((k) => [k, stats.reduce((s, x) => s + x[k], 0)]),
  );
} finally {
  await Promise.all(report.fleets.map((f) => f.close().catch(() => undefined)));
  for (const hub of report.hubs) await hub.stop().catch(() => undefined);
  await admin?.end().catch(() => undefined);
  if (clustered)
    try {
      const { connect } = await import('@nats-io/transport-node');
      const { jetstreamManager } = await import('@nats-io/jetstream');
      const nc = await connect({ servers: natsUrl });
      const jsm = await jetstreamManager(nc);
      for (const bucket of ['hubs', 'presence', 'limits']) await jsm.streams.delete(`KV_${prefix}_${bucket}`).catch(() => undefined);
      await nc.close();
    } catch (error) {
      log(`NATS clean-up: ${error.message}`);
    }
  await database.drop().catch((error) => log(`database drop: ${error.message}`));
}
mkdirSync(path.dirname(outFile), { recursive: true });
writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
