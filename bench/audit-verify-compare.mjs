// CPU per row of a full SQLite audit verify, two builds A/B on one chain in the same minutes:
// `node bench/audit-verify-compare.mjs REPO_A REPO_B [--rows N] [--rounds R] [--db FILE]` (each REPO a checkout with
// `npm run build` done; REPO_B also fills the chain). Each round runs `verify({ full: true })` (what `sonde-hub audit
// verify` runs: worker threads on SQLite) once per build, in a fresh process each, the order alternating round by
// round, and reads the CPU of that process (all threads, process.cpuUsage) around the verify alone. The host is
// shared: compare the two builds' CPU within a round, not wall times across sessions. --db keeps the chain for the
// next run (filled if absent; the secret below is fixed so that any build can verify it).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { auditEntry } from './audit-fixture.mjs';

const SECRET = 'bench-audit-verify-compare-secret-0123456789';
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);

async function openLog(repo, file) {
  const load = (p) => import(pathToFileURL(path.join(repo, 'hub/dist', p)).href);
  const { openHubStore } = await load('store/open.js');
  const { openCrypto } = await load('crypto/index.js');
  const { createAuditLog } = await load('audit/index.js');
  const store = await openHubStore(file);
  const crypto = await openCrypto(SECRET, store);
  return { log: createAuditLog(store, crypto.auditKey, crypto.sealer), close: () => store.close() };
}

if (args[0] === '--child') {
  // One verify with one build; prints its figures as JSON.
  const [, repo, file] = args;
  const { log, close } = await openLog(repo, file);
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const result = await log.verify({ full: true });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  await close();
  if (!result.ok) throw new Error(`verify failed: ${JSON.stringify(result)}`);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(
    JSON.stringify({
      checked: result.checked,
      wallMs: Math.round(wallMs),
      cpuMs: Math.round(cpuMs),
      cpuUsPerRow: +((cpuMs * 1000) / result.checked).toFixed(2),
    }),
  );
  process.exit(0);
}

const [repoA, repoB] = args.slice(0, 2).map((repo) => path.resolve(repo));
if (!repoB || repoB.startsWith('--'))
  throw new Error('usage: node bench/audit-verify-compare.mjs REPO_A REPO_B [--rows N] [--rounds R] [--db FILE]');
const rows = Number(option('--rows', 200_000));
const rounds = Number(option('--rounds', 4));
const tmp = option('--db', undefined) ? undefined : mkdtempSync(path.join(os.tmpdir(), 'sonde-verify-compare-'));
const file = option('--db', undefined) ?? path.join(tmp, 'audit.db');

if (!existsSync(file)) {
  const { log, close } = await openLog(repoB, file);
  for (let done = 0; done < rows; done += 10_000)
    await Promise.all(Array.from({ length: Math.min(10_000, rows - done) }, (_, i) => log.append(auditEntry(done + i))));
  await close();
}

const run = (repo) =>
  JSON.parse(
    execFileSync(process.execPath, [import.meta.filename, '--child', repo, file], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop(),
  );
const results = [];
try {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [repoA, repoB] : [repoB, repoA];
    const figures = {};
    for (const repo of order) figures[repo === repoA ? 'a' : 'b'] = run(repo);
    const line = { round: round + 1, loadavg1: +os.loadavg()[0].toFixed(1), ...figures };
    process.stderr.write(`${JSON.stringify(line)}\n`);
    results.push(line);
  }
} finally {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
const median = (values) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
const perRow = (side) => results.map((r) => r[side].cpuUsPerRow);
const ratios = results.map((r) => r.b.cpuUsPerRow / r.a.cpuUsPerRow);
console.log(
  JSON.stringify(
    {
      at: new Date().toISOString(),
      node: process.version,
      rows: results[0]?.a.checked,
      a: repoA,
      b: repoB,
      cpuUsPerRow: { a: perRow('a'), b: perRow('b') },
      medianChange: `${((median(ratios) - 1) * 100).toFixed(1)} %`,
      rounds: results,
    },
    null,
    2,
  ),
);
