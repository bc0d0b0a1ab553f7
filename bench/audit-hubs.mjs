// Audit appends/s with 1 and 3 hub processes writing into one deployment's chain, PostgreSQL beside SQLite:
// `node bench/audit-hubs.mjs [--appends N] [--writers W] [--postgres URL] [--runs R]`.
// Each "hub" is a separate Node process that opens the store and the audit log exactly as the hub does
// (hub/dist/store/open.js, audit/index.js, one SONDE_SECRET) and runs W writers that each await their append before
// the next (as requests await their audit entry). All processes start at one instant; appends/s is the total over the
// wall time of the slowest. Afterwards the parent counts the rows (none lost or doubled) and verifies the whole chain.
// SQLite "3 hubs" means 3 processes on one file (WAL), the one-host cluster the guide describes; PostgreSQL uses a
// fresh database per run on the machine's server (default postgres://postgres@127.0.0.1:5432/postgres).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { auditEntry } from './audit-fixture.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const dist = path.join(import.meta.dirname, '..', 'hub', 'dist');
const load = (p) => import(pathToFileURL(path.join(dist, p)).href);

async function openLog(location, secret) {
  const { openHubStore } = await load('store/open.js');
  const { openCrypto } = await load('crypto/index.js');
  const { createAuditLog } = await load('audit/index.js');
  const store = await openHubStore(location);
  const crypto = await openCrypto(secret, store);
  return { store, log: createAuditLog(store, crypto.auditKey, crypto.sealer) };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

if (args[0] === '--child') {
  // One hub: open, say ready, wait for the start instant, append, report.
  const [, location, secret, total, writers, hubIndex] = args;
  const { store, log } = await openLog(location, secret);
  process.send({ ready: true });
  const startAt = await new Promise((resolve) => process.once('message', (message) => resolve(message.startAt)));
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
  const latencies = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Number(writers) }, async () => {
      while (next < Number(total)) {
        const i = next++;
        const started = performance.now();
        await log.append({ ...auditEntry(i), detail: `hub ${hubIndex}` });
        latencies.push(performance.now() - started);
      }
    }),
  );
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  process.send({
    ms,
    appends: Number(total),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    cpuUsPerAppend: (cpu.user + cpu.system) / Number(total),
  });
  await store.close();
  process.exit(0);
}

const appends = Number(option('--appends', 6_000));
const writers = Number(option('--writers', 16));
const runs = Number(option('--runs', 1));
const postgresAdmin = option('--postgres', process.env.SONDE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const { createTestDatabase, postgresReachable } = await load('store/testing.js');

function child(location, secret, total, index) {
  const proc = spawn(process.execPath, [import.meta.filename, '--child', location, secret, String(total), String(writers), String(index)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages = [];
  const waiters = [];
  proc.on('message', (message) => (waiters.length ? waiters.shift()(message) : messages.push(message)));
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  return {
    proc,
    exited,
    next: () => (messages.length ? Promise.resolve(messages.shift()) : new Promise((resolve) => waiters.push(resolve))),
  };
}

async function run(backend, hubs) {
  const secret = randomBytes(32).toString('base64');
  let location;
  let cleanup = async () => {};
  if (backend === 'postgres') {
    const database = await createTestDatabase(postgresAdmin);
    location = database.url;
    cleanup = () => database.drop();
  } else {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-bench-audit-hubs-'));
    location = path.join(dir, 'sonde.db');
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  try {
    // First boot (salt, secret check) once, as the first hub would; then the hubs open the initialised store.
    const first = await openLog(location, secret);
    await first.store.close();
    const per = Math.floor(appends / hubs);
    const children = Array.from({ length: hubs }, (_, index) => child(location, secret, per, index));
    for (const c of children) await c.next();
    const startAt = Date.now() + 300;
    for (const c of children) c.proc.send({ startAt });
    const reports = await Promise.all(children.map((c) => c.next()));
    await Promise.all(children.map((c) => c.exited));
    const wallMs = Math.max(...reports.map((r) => r.ms));
    const { store, log } = await openLog(location, secret);
    const rows = await store.audit.count();
    const verify = await log.verify({ full: true });
    await store.close();
    const total = per * hubs;
    return {
      backend,
      hubs,
      writersPerHub: writers,
      appends: total,
      perSecond: Math.round(total / (wallMs / 1000)),
      p50Ms: +Math.max(...reports.map((r) => r.p50Ms)).toFixed(2),
      p99Ms: +Math.max(...reports.map((r) => r.p99Ms)).toFixed(2),
      cpuUsPerAppend: Math.round(reports.reduce((sum, r) => sum + r.cpuUsPerAppend, 0) / reports.length),
      // Every append is one row: none lost, none doubled; the one chain verifies from genesis.
      rowsStored: rows,
      chainOk: verify.ok,
    };
  } finally {
    await cleanup();
  }
}

const reachable = await postgresReachable(postgresAdmin);
const backends = reachable.ok ? ['sqlite', 'postgres'] : ['sqlite'];
if (!reachable.ok) console.error(`PostgreSQL not measured: ${reachable.reason}`);
const results = [];
for (let r = 0; r < runs; r++)
  for (const backend of backends)
    for (const hubs of [1, 3]) {
      const result = await run(backend, hubs);
      results.push(result);
      console.error(
        `${backend.padEnd(8)} ${hubs} hub(s) x ${writers} writers: ${result.perSecond} appends/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.cpuUsPerAppend} µs CPU/append, rows ${result.rowsStored}/${result.appends}, chain ${result.chainOk ? 'ok' : 'BROKEN'}`,
      );
    }
console.log(JSON.stringify({ load: os.loadavg().map((l) => +l.toFixed(1)), results }, null, 2));
if (results.some((r) => !r.chainOk || r.rowsStored !== r.appends)) process.exit(1);
