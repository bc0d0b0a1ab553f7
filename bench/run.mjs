// `npm run bench`: runs every benchmark, prints one table and writes
// bench/results/latest.json (plus a timestamped copy). `--smoke` runs a tiny
// version of each (CI uses it so the bench code cannot rot); `--only NAME`
// runs one suite. `--compare <git ref>` runs the same suites for that ref side by side (bench/compare.mjs).
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    only: { type: 'string' },
    compare: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    // With --compare: run this tree's file of these suites against the ref too (its helpers, this tree's measurements).
    borrow: { type: 'string' },
  },
});
const here = import.meta.dirname;
const suites = ['protocol', 'hub', 'agent', 'sandbox', 'audit', 'probe', 'mcp', 'memory', 'fleet', 'dashboard'];
// `--only probe,mcp,sandbox`: several suites, in the order of `suites`.
const only = values.only?.split(',').filter(Boolean);
for (const name of [...(only ?? []), ...(values.borrow?.split(',').filter(Boolean) ?? [])])
  if (!suites.includes(name)) throw new Error(`unknown suite ${name}; suites: ${suites.join(', ')}`);

if (values.compare) {
  const { compare, compareTable, writeCompare } = await import('./compare.mjs');
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a whole number of at least 1');
  const report = await compare({
    ref: values.compare,
    suites: only ? suites.filter((name) => only.includes(name)) : suites,
    smoke: values.smoke,
    rounds,
    borrow: values.borrow?.split(',').filter(Boolean) ?? [],
  });
  writeCompare(report);
  console.log(values.json ? JSON.stringify(report, null, 2) : compareTable(report));
  process.exit(report.results.some((r) => r.rows.some((row) => row.metric === 'suite failed')) ? 1 : 0);
}

const rows = [];
// The machine may be shared (other jobs running): every suite records the load average it ran under.
const load = [];
for (const name of suites) {
  if (only && !only.includes(name)) continue;
  // SONDE_BENCH_SUITES_DIR: compare.mjs runs a suite copied into an older tree, so it uses that tree's helpers.
  const mod = await import(pathToFileURL(path.join(process.env.SONDE_BENCH_SUITES_DIR ?? path.join(here, 'suites'), `${name}.mjs`)).href);
  const started = performance.now();
  const loadBefore = os.loadavg()[0];
  try {
    for (const row of await mod.run({ smoke: values.smoke })) rows.push({ suite: name, ...row });
  } catch (error) {
    rows.push({ suite: name, metric: 'suite failed', value: String(error?.message ?? error), unit: '', goal: '', met: false });
  }
  load.push({ suite: name, loadavg1Before: loadBefore, loadavg1After: os.loadavg()[0], ms: Math.round(performance.now() - started) });
  process.stderr.write(
    `bench ${name}: ${Math.round(performance.now() - started)} ms, load average ${loadBefore.toFixed(1)} → ${os.loadavg()[0].toFixed(1)}\n`,
  );
}

const format = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 3 : 1)) : String(v));
const table = [
  ['suite', 'metric', 'value', 'unit', 'goal', 'met'],
  ...rows.map((r) => [r.suite, r.metric, format(r.value), r.unit ?? '', r.goal ?? '', r.met === undefined ? '' : r.met ? 'yes' : 'NO']),
];
const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
for (const row of table) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join('  '));

const out = path.join(here, 'results');
mkdirSync(out, { recursive: true });
const report = {
  at: new Date().toISOString(),
  node: process.version,
  smoke: values.smoke,
  cpus: os.cpus().length,
  loadavg: os.loadavg(),
  load,
  rows,
};
writeFileSync(path.join(out, 'latest.json'), JSON.stringify(report, null, 2) + '\n');
writeFileSync(path.join(out, `${report.at.replace(/[:.]/g, '-')}.json`), JSON.stringify(report, null, 2) + '\n');
if (rows.some((r) => r.metric === 'suite failed')) process.exit(1);
