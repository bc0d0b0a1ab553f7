// What the audit benches share (bench/suites/audit.mjs in `npm run bench`, bench/audit-writers.mjs against any
// checkout): the entry they append, opening the hub's own audit log on a temp SQLite file, and a batched fill.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';
import { pathToFileURL } from 'node:url';

/** A typical MCP tool call entry (about what the hub writes per call). */
export function auditEntry(i) {
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

/**
 * Opens `file` as the hub opens its database, with the audit log of the build in `dist` (hub/dist of some
 * checkout). Builds with the asynchronous store (store/open.js, group commit) and the synchronous one before it
 * (store/sqlite/index.js, one commit per append) both work, so the previous build can be measured beside this one.
 */
export async function openAudit(dist, file) {
  const load = (p) => import(pathToFileURL(path.join(dist, p)).href);
  const { openCrypto } = await load('crypto/index.js');
  const { createAuditLog } = await load('audit/index.js');
  const secret = randomBytes(32).toString('base64');
  const asyncStore = existsSync(path.join(dist, 'store/open.js'));
  if (asyncStore) {
    const { openHubStore } = await load('store/open.js');
    const store = await openHubStore(file);
    const crypto = await openCrypto(secret, store);
    return { asyncStore, store, log: createAuditLog(store, crypto.auditKey, crypto.sealer), close: () => store.close() };
  }
  const { openSqliteStore } = await load('store/sqlite/index.js');
  const store = openSqliteStore(file);
  const crypto = openCrypto(secret, store);
  return { asyncStore, store, log: createAuditLog(store, crypto.auditKey, crypto.sealer), close: () => store.close() };
}

/** Appends `count` entries in transactions of 10,000 (the append code path, without a commit per entry). */
export async function fillAudit({ asyncStore, store, log }, count) {
  const batch = 10_000;
  if (asyncStore) {
    for (let done = 0; done < count; done += batch)
      await store.transaction(async (tx) => {
        for (let i = 0; i < Math.min(batch, count - done); i++) await log.append(auditEntry(i), tx);
      });
    return;
  }
  const fill = store.db.transaction((n) => {
    for (let i = 0; i < n; i++) log.append(auditEntry(i));
  });
  for (let done = 0; done < count; done += batch) fill.immediate(Math.min(batch, count - done));
}

/**
 * Watches the event loop while something runs: `monitorEventLoopDelay` (10 ms) for max and p99, and a 10 ms ticker
 * whose last gap runs to `stop()`, so a loop held to the very end (no sample at all) still counts. Delays in ms.
 */
export function watchEventLoop() {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let last = performance.now();
  let maxGap = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 10);
  return () => {
    clearInterval(tick);
    histogram.disable();
    maxGap = Math.max(maxGap, performance.now() - last);
    const sampled = histogram.count > 0;
    return {
      maxMs: +Math.max(sampled ? histogram.max / 1e6 : 0, maxGap).toFixed(1),
      p99Ms: sampled ? +(histogram.percentile(99) / 1e6).toFixed(1) : null,
    };
  };
}
