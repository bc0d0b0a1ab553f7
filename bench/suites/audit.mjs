// Issue 13 item 6 (and the audit rows of item 10): the hub's own audit module
// (hub/dist/audit, keyed HMAC chain, sealed head) on a temp SQLite file opened
// exactly as the hub opens it (store/open.js). Appends one at a time, each
// awaited, as one caller does; the large logs are filled in batches (many
// appends in one transaction, same code path) so the session does not spend
// minutes filling, then verified in full and incrementally.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { auditEntry, fillAudit, openAudit, watchEventLoop } from '../audit-fixture.mjs';
import { row } from '../lib.mjs';
import { REPO } from '../stack.mjs';

export async function run({ smoke }) {
  // Filling 1M rows takes minutes on this shared machine; SONDE_BENCH_AUDIT_ROWS=1000000 runs it, otherwise 1M is extrapolated.
  const largest = Number(process.env.SONDE_BENCH_AUDIT_ROWS ?? 100_000);
  const sizes = smoke ? [1_000, 5_000] : [10_000, 100_000, 1_000_000].filter((n) => n <= largest);
  const appendN = smoke ? 500 : 20_000;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-bench-audit-'));
  const rows = [];
  try {
    const opened = await openAudit(path.join(REPO, 'hub/dist'), path.join(dir, 'audit.db'));
    const { store, log: audit } = opened;

    // One commit per append: what the hub does for every call. CPU time is the steadier figure on a shared machine.
    let t0 = performance.now();
    let cpu0 = process.cpuUsage();
    for (let i = 0; i < appendN; i++) await audit.append(auditEntry(i));
    const perSecond = appendN / ((performance.now() - t0) / 1000);
    const appendCpu = process.cpuUsage(cpu0);
    rows.push(row(`appends/s, one commit each (n=${appendN})`, perSecond, '/s', '≥ 20,000/s', perSecond >= 20_000));
    rows.push(row('CPU per append (user + system)', (appendCpu.user + appendCpu.system) / appendN, 'µs'));

    let total = appendN;
    for (const size of sizes) {
      t0 = performance.now();
      if (total < size) await fillAudit(opened, size - total);
      total = Math.max(total, size);
      const fillMs = performance.now() - t0;
      // process.cpuUsage counts every thread, so this is the CPU of the verify's worker threads too.
      cpu0 = process.cpuUsage();
      // How long the event loop was held while the verify ran (sampled every 10 ms): what a request waits at worst.
      const stopWatch = watchEventLoop();
      const full = await audit.verify({ full: true });
      const loop = stopWatch();
      const verifyCpu = process.cpuUsage(cpu0);
      if (!full.ok) throw new Error(`full verify failed at ${size}: ${full.reason}`);
      const goal = size === 1_000_000 ? '≤ 3 s' : '';
      rows.push(
        row(`full verify of ${size.toLocaleString('en')} rows`, full.durationMs, 'ms', goal, goal ? full.durationMs <= 3000 : undefined),
        row(`full verify of ${size.toLocaleString('en')} rows, CPU (all threads)`, (verifyCpu.user + verifyCpu.system) / 1000, 'ms'),
        row(`full verify of ${size.toLocaleString('en')} rows, event-loop max delay`, loop.maxMs, 'ms'),
      );
      if (fillMs > 0 && size === sizes[sizes.length - 1])
        rows.push(row('batched appends/s (10k per transaction)', (size - appendN) / (fillMs / 1000), '/s'));
      // Incremental: 1,000 new rows after a verified checkpoint.
      for (let i = 0; i < 1000; i++) await audit.append(auditEntry(i));
      total += 1000;
      const inc = await audit.verify({ full: false });
      if (!inc.ok || inc.checked !== 1000) throw new Error(`incremental verify: ${JSON.stringify(inc)}`);
      rows.push(row(`incremental verify, 1,000 new on ${size.toLocaleString('en')}`, inc.durationMs, 'ms'));
    }
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
