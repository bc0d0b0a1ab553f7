// A full audit verify of a 1,000,000-entry chain: wall time, CPU, and how long the event loop was held, on SQLite and
// on PostgreSQL. `node bench/audit-verify-1m.mjs [--rows N] [--postgres URL | --no-postgres] [--json]` after
// `npm run build`. The chain is written through the hub's own audit log (hub/dist/audit, store opened as the hub opens
// it): appends without a transaction, 10,000 in flight at a time, so the log's group commit writes them 1,000 to a
// transaction with one head update; nothing here builds a hash. The verify is the one `sonde-hub audit verify` and
// `POST /api/v1/audit/verify` run (`verify({ full: true, onProgress })`), with the event loop sampled every 10 ms
// (bench/audit-fixture.mjs watchEventLoop) while it runs. PostgreSQL: a fresh database on the machine's server (default
// postgres://postgres@127.0.0.1:5432/postgres), dropped afterwards.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { auditEntry, openAudit, watchEventLoop } from './audit-fixture.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const rows = Number(option('--rows', 1_000_000));
const postgresUrl = args.includes('--no-postgres') ? undefined : option('--postgres', 'postgres://postgres@127.0.0.1:5432/postgres');
const dist = path.join(import.meta.dirname, '..', 'hub', 'dist');
const IN_FLIGHT = 10_000;

/** Appends `count` entries through the log's group commit, `IN_FLIGHT` awaited at a time. */
async function fill(log, count) {
  for (let done = 0; done < count; done += IN_FLIGHT) {
    const n = Math.min(IN_FLIGHT, count - done);
    await Promise.all(Array.from({ length: n }, (_, i) => log.append(auditEntry(done + i))));
  }
}

async function measure(backend, location) {
  const result = await measureOnce(backend, location);
  process.stderr.write(`${JSON.stringify(result)}\n`);
  return result;
}

async function measureOnce(backend, location) {
  const loadBefore = os.loadavg()[0];
  const { log, close } = await openAudit(dist, location);
  try {
    const fillStarted = performance.now();
    await fill(log, rows);
    const fillMs = performance.now() - fillStarted;

    let progressReports = 0;
    let firstProgressMs;
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    const stopWatch = watchEventLoop();
    const result = await log.verify({
      full: true,
      onProgress: ({ checked }) => {
        progressReports += 1;
        if (checked > 0) firstProgressMs ??= performance.now() - started;
      },
    });
    const loop = stopWatch();
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpu0);
    if (!result.ok) throw new Error(`${backend}: verify failed: ${JSON.stringify(result)}`);
    return {
      backend,
      rows,
      checked: result.checked,
      fillSeconds: +(fillMs / 1000).toFixed(1),
      fillPerSecond: Math.round(rows / (fillMs / 1000)),
      verifyMs: Math.round(wallMs),
      verifyCpuMs: Math.round((cpu.user + cpu.system) / 1000),
      eventLoopMaxDelayMs: loop.maxMs,
      eventLoopP99DelayMs: loop.p99Ms,
      progressReports,
      firstProgressMs: firstProgressMs === undefined ? null : Math.round(firstProgressMs),
      loadavg1Before: +loadBefore.toFixed(1),
      loadavg1After: +os.loadavg()[0].toFixed(1),
    };
  } finally {
    await close();
  }
}

const results = [];
const dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-bench-verify-'));
try {
  results.push(await measure('sqlite', path.join(dir, 'audit.db')));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (postgresUrl) {
  const { createTestDatabase, postgresReachable } = await import(pathToFileURL(path.join(dist, 'store/testing.js')).href);
  const reachable = await postgresReachable(postgresUrl);
  if (!reachable.ok) results.push({ backend: 'postgres', skipped: reachable.reason });
  else {
    const database = await createTestDatabase(postgresUrl);
    try {
      results.push(await measure('postgres', database.url));
    } finally {
      await database.drop();
    }
  }
}

const report = { at: new Date().toISOString(), node: process.version, cpus: os.cpus().length, results };
const out = path.join(import.meta.dirname, 'results');
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, 'audit-verify-1m-latest.json'), JSON.stringify(report, null, 2) + '\n');
if (args.includes('--json')) console.log(JSON.stringify(report, null, 2));
else {
  const columns = [
    ['backend', (r) => r.backend],
    ['rows', (r) => r.rows?.toLocaleString('en') ?? ''],
    ['fill s (group commit)', (r) => r.fillSeconds ?? r.skipped],
    ['verify ms', (r) => r.verifyMs ?? ''],
    ['verify CPU ms', (r) => r.verifyCpuMs ?? ''],
    ['event loop max / p99 ms', (r) => (r.eventLoopMaxDelayMs === undefined ? '' : `${r.eventLoopMaxDelayMs} / ${r.eventLoopP99DelayMs}`)],
    ['progress reports (first at ms)', (r) => (r.progressReports === undefined ? '' : `${r.progressReports} (${r.firstProgressMs})`)],
    ['load 1m', (r) => (r.loadavg1Before === undefined ? '' : `${r.loadavg1Before} → ${r.loadavg1After}`)],
  ];
  const table = [columns.map(([name]) => name), ...results.map((r) => columns.map(([, cell]) => String(cell(r))))];
  const widths = table[0].map((_, i) => Math.max(...table.map((line) => line[i].length)));
  for (const line of table) console.log(line.map((cell, i) => cell.padEnd(widths[i])).join('  '));
}
