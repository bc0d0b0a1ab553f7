// Audit appends with concurrent writers, against the build in a given checkout, so the previous build can be
// measured in the same minutes: `node bench/audit-writers.mjs [REPO] [--appends N] [--verify-rows N]`.
// Works with the asynchronous store (hub/dist/store/open.js, group commit) and with the synchronous one before it
// (hub/dist/store/sqlite/index.js, one commit per append). Each writer awaits its own append before the next, as a
// request awaits its audit entry before answering; latency is measured per append, CPU over the whole run.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setInterval, clearInterval } from 'node:timers';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const repo = path.resolve(args[0] && !args[0].startsWith('--') ? args[0] : path.join(import.meta.dirname, '..'));
const option = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const appends = option('--appends', 20_000);
const verifyRows = option('--verify-rows', 0);
const dist = path.join(repo, 'hub/dist');
const load = (p) => import(pathToFileURL(path.join(dist, p)).href);
const asyncStore = existsSync(path.join(dist, 'store/open.js'));

function entry(i) {
  return {
    action: 'mcp.tool_call',
    actor: { kind: 'api_key', id: '7d0c2a4e-5b0e-4f43-9f43-0c6f8f6f2d11', name: 'bench-admin' },
    clientId: 'claude-code',
    tool: 'system_disk_usage',
    agents: ['web-01'],
    probe: 'system.disk.usage',
    params: { agent: 'web-01', i },
    status: 'ok',
    resultBytes: 1834,
    durationMs: 12,
    detail: null,
  };
}

async function open(file) {
  const { openCrypto } = await load('crypto/index.js');
  const { createAuditLog } = await load('audit/index.js');
  const secret = randomBytes(32).toString('base64');
  if (asyncStore) {
    const { openHubStore } = await load('store/open.js');
    const store = await openHubStore(file);
    const crypto = await openCrypto(secret, store);
    return { store, log: createAuditLog(store, crypto.auditKey, crypto.sealer), close: () => store.close() };
  }
  const { openSqliteStore } = await load('store/sqlite/index.js');
  const store = openSqliteStore(file);
  const crypto = openCrypto(secret, store);
  return { store, log: createAuditLog(store, crypto.auditKey, crypto.sealer), close: () => store.close() };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function writers(log, count, total) {
  const latencies = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: count }, async () => {
      while (next < total) {
        const i = next++;
        const started = performance.now();
        await log.append(entry(i));
        latencies.push(performance.now() - started);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  return {
    writers: count,
    perSecond: Math.round(total / seconds),
    p50Ms: +percentile(latencies, 50).toFixed(3),
    p99Ms: +percentile(latencies, 99).toFixed(3),
    cpuUsPerAppend: Math.round((cpu.user + cpu.system) / total),
  };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-bench-writers-'));
try {
  const results = { build: asyncStore ? 'asynchronous store, group commit' : 'synchronous store, one commit per append', repo };
  for (const count of [1, 8, 64]) {
    const { log, close } = await open(path.join(dir, `w${count}.db`));
    results[`writers${count}`] = await writers(log, count, appends);
    await close();
  }
  if (verifyRows > 0) {
    const { store, log, close } = await open(path.join(dir, 'verify.db'));
    // Filled with 64 writers (group commit on the new build; one commit each on the old one, which is slow).
    if (asyncStore) {
      const batch = 10_000;
      for (let done = 0; done < verifyRows; done += batch)
        await store.transaction(async (tx) => {
          for (let i = 0; i < Math.min(batch, verifyRows - done); i++) await log.append(entry(i), tx);
        });
    } else {
      const fill = store.db.transaction((count) => {
        for (let i = 0; i < count; i++) log.append(entry(i));
      });
      for (let done = 0; done < verifyRows; done += 10_000) fill.immediate(Math.min(10_000, verifyRows - done));
    }
    let progressReports = 0;
    let maxGapMs = 0;
    let last = 0;
    // How long the event loop is held: a timer every 10 ms, the largest gap between two ticks.
    const tick = setInterval(() => {
      const now = performance.now();
      maxGapMs = Math.max(maxGapMs, now - last);
      last = now;
    }, 10);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    last = t0;
    const result = await log.verify({ full: true, onProgress: () => (progressReports += 1) });
    const wallMs = Math.round(performance.now() - t0);
    const cpu = process.cpuUsage(cpu0);
    // A verify that held the loop to the end never let the timer run: its gap runs to now.
    maxGapMs = Math.max(maxGapMs, performance.now() - last);
    clearInterval(tick);
    results.verify = {
      rows: verifyRows,
      ok: result.ok,
      wallMs,
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      progressReports,
      longestEventLoopGapMs: Math.round(maxGapMs),
    };
    await close();
  }
  console.log(JSON.stringify(results, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
