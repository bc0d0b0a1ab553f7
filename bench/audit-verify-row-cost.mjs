// CPU per row of the SQLite full verify, taken apart: what the verify's worker threads do for each row (read it with
// the chain text SQLite builds, then one HMAC), run here on the main thread, one stage at a time, each timed with
// process.cpuUsage (CPU time of this process, not wall time: the host is shared). `node bench/audit-verify-row-cost.mjs
// [--rows N] [--db FILE] [--rounds R]` after `npm run build`; --db keeps the chain for the next run (filled if absent).
// Run under `node --cpu-prof` for a profile of the same work.
import { createHash, createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { fillAudit, openAudit } from './audit-fixture.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const rows = Number(option('--rows', 200_000));
const rounds = Number(option('--rounds', 3));
const dist = path.join(import.meta.dirname, '..', 'hub', 'dist');
const load = (p) => import(pathToFileURL(path.join(dist, p)).href);
const tmp = option('--db', undefined) ? undefined : mkdtempSync(path.join(os.tmpdir(), 'sonde-row-cost-'));
const file = option('--db', undefined) ?? path.join(tmp, 'audit.db');

if (!existsSync(file)) {
  const opened = await openAudit(dist, file);
  await fillAudit(opened, rows);
  await opened.close();
}

const { DRIVER_MODULE_PATH } = await load('store/sqlite/driver.js');
const { sqliteAuditStore, AUDIT_CHAIN_SOURCE } = await load('store/sqlite/audit.js');
const Database = createRequire(import.meta.url)(DRIVER_MODULE_PATH);
const db = new Database(file, { readonly: true, fileMustExist: true });
const source = sqliteAuditStore(db)[AUDIT_CHAIN_SOURCE];
const count = db.prepare('SELECT count(*) AS n FROM audit_log').get().n;
// Any key: every row then fails its comparison, which costs the same as passing it.
const key = createSecretKey(randomBytes(32));

/** CPU microseconds per row of `fn` over the whole table, best of `rounds`. */
function perRow(label, fn) {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const cpu = process.cpuUsage();
    const n = fn();
    const used = process.cpuUsage(cpu);
    if (n !== count) throw new Error(`${label}: ${n} rows, expected ${count}`);
    best = Math.min(best, (used.user + used.system) / n);
  }
  return { stage: label, cpuUsPerRow: +best.toFixed(2) };
}

const textSql = source.textSql;
const hashesOnly = db.prepare('SELECT seq, hash FROM audit_log WHERE seq >= ? AND seq <= ? ORDER BY seq').raw();
const withText = db.prepare(textSql).raw();
const results = [
  perRow('read seq, hash (.raw)', () => {
    let n = 0;
    for (const row of hashesOnly.iterate(1, count)) n += row[0] > 0 ? 1 : 0;
    return n;
  }),
  perRow('read seq, hash, chain text built by SQLite (.raw)', () => {
    let n = 0;
    for (const row of withText.iterate(1, count)) n += row[2] === null ? 0 : 1;
    return n;
  }),
  perRow(
    'HMAC only (createHmac per row, hex digest, compare), texts preloaded',
    (() => {
      const texts = [...withText.iterate(1, Math.min(count, 100_000))];
      return () => {
        let n = 0;
        for (let i = 0; i < count; i++) {
          const [, hash, text] = texts[i % texts.length];
          if (createHmac('sha256', key).update(`${hash}\n${text}`).digest('hex') !== hash) n++;
        }
        return n;
      };
    })(),
  ),
  perRow('the worker loop: read with text + HMAC (as chain-ranges.ts)', () => {
    let n = 0;
    let prevHash = '0'.repeat(64);
    for (const [seq, hash, text] of withText.iterate(1, count)) {
      if (
        text === null ||
        createHmac('sha256', key)
          .update(prevHash + '\n' + text)
          .digest('hex') !== hash
      )
        n += seq > 0 ? 1 : 0;
      prevHash = hash;
    }
    return n;
  }),
  perRow('read with text in windows of 4,096 seqs (.raw().all)', () => {
    let n = 0;
    for (let from = 1; from <= count; from += 4096)
      for (const row of withText.all(from, Math.min(count, from + 4095))) n += row[2] === null ? 0 : 1;
    return n;
  }),
  perRow(
    'HMAC from precomputed pads (hash.copy), texts preloaded',
    (() => {
      const texts = [...withText.iterate(1, Math.min(count, 100_000))];
      const raw = randomBytes(32);
      const pad = (byte) => Buffer.concat([raw, Buffer.alloc(32)]).map((b) => b ^ byte);
      const inner = createHash('sha256').update(pad(0x36));
      const outer = createHash('sha256').update(pad(0x5c));
      return () => {
        let n = 0;
        for (let i = 0; i < count; i++) {
          const [, hash, text] = texts[i % texts.length];
          if (
            outer
              .copy()
              .update(inner.copy().update(`${hash}\n${text}`).digest())
              .digest('hex') !== hash
          )
            n++;
        }
        return n;
      };
    })(),
  ),
];
db.close();
if (tmp) rmSync(tmp, { recursive: true, force: true });
const report = { at: new Date().toISOString(), node: process.version, rows: count, loadavg1: +os.loadavg()[0].toFixed(1), results };
console.log(JSON.stringify(report, null, 2));
