// Issue 25: backup size and time for a 1M-row audit log. Fills a hub database
// with SONDE_BENCH_BACKUP_ROWS audit entries (default 1,000,000; batched appends
// through the hub's own audit module, as bench/suites/audit.mjs does), then runs
// `sonde-hub backup` as a process (VACUUM INTO through HubStore.backup) twice:
// idle, and while this process keeps appending (what a serving hub does), then
// `sonde-hub restore` (copy, open with the secret, full verify, rename).
// Run: npm run build && node bench/backup-1m.mjs   (about 2-4 minutes here)
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from './stack.mjs';

const load = (p) => import(pathToFileURL(path.join(REPO, 'hub/dist', p)).href);
const rows = Number(process.env.SONDE_BENCH_BACKUP_ROWS ?? 1_000_000);
const MiB = 1024 * 1024;

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

const dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-bench-backup-'));
const env = { PATH: process.env.PATH, SONDE_SECRET: randomBytes(32).toString('base64'), SONDE_DB_PATH: path.join(dir, 'sonde.db') };
const cli = (args, extra = {}) =>
  JSON.parse(
    execFileSync(process.execPath, [path.join(REPO, 'hub/dist/cli.js'), ...args, '--json'], {
      env: { ...env, ...extra },
      encoding: 'utf8',
    }),
  );
try {
  const { openHubStore } = await load('store/open.js');
  const { openCrypto } = await load('crypto/index.js');
  const { createAuditLog } = await load('audit/index.js');
  const store = openHubStore(env.SONDE_DB_PATH);
  const crypto = await openCrypto(env.SONDE_SECRET, store);
  const audit = createAuditLog(store, crypto.auditKey, crypto.sealer);
  let t0 = performance.now();
  for (let total = 0; total < rows;) {
    const count = Math.min(10_000, rows - total);
    await store.transaction(async (tx) => {
      for (let i = 0; i < count; i++) await audit.append(entry(total + i), tx);
    });
    total += count;
  }
  console.log(`filled ${rows.toLocaleString('en')} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const dbBytes = statSync(env.SONDE_DB_PATH).size;

  t0 = performance.now();
  const idle = cli(['backup', '--out', path.join(dir, 'idle.db')]);
  const idleMs = performance.now() - t0;

  // The same while a writer appends one entry at a time (as the serving hub's group commit does).
  let stop = false;
  let appended = 0;
  const writing = (async () => {
    while (!stop) {
      await audit.append(entry(appended));
      appended += 1;
    }
  })();
  t0 = performance.now();
  const busyChild = new Promise((resolve, reject) => {
    import('node:child_process').then(({ execFile }) =>
      execFile(
        process.execPath,
        [path.join(REPO, 'hub/dist/cli.js'), 'backup', '--out', path.join(dir, 'busy.db'), '--json'],
        { env },
        (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout))),
      ),
    );
  });
  const busy = await busyChild;
  const busyMs = performance.now() - t0;
  stop = true;
  await writing;
  await store.close();

  t0 = performance.now();
  const restored = cli(['restore', '--from', path.join(dir, 'idle.db')], { SONDE_DB_PATH: path.join(dir, 'restored', 'sonde.db') });
  const restoreMs = performance.now() - t0;

  const table = [
    ['audit rows', rows.toLocaleString('en')],
    ['database file (WAL checkpointed by the fill)', `${(dbBytes / MiB).toFixed(1)} MiB`],
    ['backup file', `${(idle.bytes / MiB).toFixed(1)} MiB`],
    [
      'sonde-hub backup, idle (process start + secret check + VACUUM INTO)',
      `${(idleMs / 1000).toFixed(2)} s (VACUUM INTO part ${idle.durationMs} ms)`,
    ],
    [
      'sonde-hub backup while a writer appends',
      `${(busyMs / 1000).toFixed(2)} s; ${appended} appends meanwhile (${(appended / (busyMs / 1000)).toFixed(0)}/s)`,
    ],
    ['busy backup file', `${(busy.bytes / MiB).toFixed(1)} MiB`],
    [
      'sonde-hub restore (copy, open, migrate, full verify, rename)',
      `${(restoreMs / 1000).toFixed(2)} s, ${restored.auditEntries} entries verified`,
    ],
  ];
  for (const [metric, value] of table) console.log(`${metric.padEnd(72)} ${value}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
