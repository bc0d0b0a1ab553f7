// Audit appends with concurrent writers, against the build in a given checkout, so the previous build can be
// measured in the same minutes: `node bench/audit-writers.mjs [REPO] [--appends N] [--verify-rows N]`.
// Works with the asynchronous store (hub/dist/store/open.js, group commit) and with the synchronous one before it
// (hub/dist/store/sqlite/index.js, one commit per append). Each writer awaits its own append before the next, as a
// request awaits its audit entry before answering; latency is measured per append, CPU over the whole run.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setInterval, clearInterval } from 'node:timers';
import { auditEntry, fillAudit, openAudit } from './audit-fixture.mjs';

const args = process.argv.slice(2);
const repo = path.resolve(args[0] && !args[0].startsWith('--') ? args[0] : path.join(import.meta.dirname, '..'));
const option = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const appends = option('--appends', 20_000);
const verifyRows = option('--verify-rows', 0);
const dist = path.join(repo, 'hub/dist');
const asyncStore = existsSync(path.join(dist, 'store/open.js'));

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
        await log.append(auditEntry(i));
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
    const { log, close } = await openAudit(dist, path.join(dir, `w${count}.db`));
    results[`writers${count}`] = await writers(log, count, appends);
    await close();
  }
  if (verifyRows > 0) {
    const { store, log, close } = await openAudit(dist, path.join(dir, 'verify.db'));
    await fillAudit({ asyncStore, store, log }, verifyRows);
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
