// `node bench/run.mjs --compare <git ref> [--only SUITE] [--smoke] [--rounds N]`: the same suites for this tree and
// for <ref>, alternating suite by suite in the same minutes, so a shared or slower host shifts both columns alike.
// <ref> is checked out in a temporary worktree (node_modules hard-linked from this tree, workspace links resolving
// inside it), built there, and removed afterwards. Prints one side-by-side table and writes
// bench/results/compare-latest.json (plus a timestamped copy).
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const git = (cwd, ...args) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

/**
 * Runs one suite of `tree`'s build. A suite the tree's bench does not have yet (one added after the ref), or one named
 * in `borrow` (`--borrow mcp`: this tree's version measures something the ref's does not, say another wire key), is copied
 * into the tree's bench/suites/ and run by `here`'s run.mjs from there (SONDE_BENCH_SUITES_DIR): its imports of the
 * bench helpers (stack, sim-agent, mcp-raw, lib) then resolve to the ref's own, which speak the ref's protocol, so a
 * new figure can still be compared with an older build as long as it uses only helpers the ref has.
 */
const borrowedSuites = new Set();
function runSuite(tree, suite, smoke, here, borrow = []) {
  const key = `${tree}\u0000${suite}`;
  if (
    tree !== here &&
    !borrowedSuites.has(key) &&
    (borrow.includes(suite) || !existsSync(path.join(tree, 'bench/suites', `${suite}.mjs`)))
  ) {
    cpSync(path.join(here, 'bench/suites', `${suite}.mjs`), path.join(tree, 'bench/suites', `${suite}.mjs`));
    borrowedSuites.add(key);
  }
  const borrowed = borrowedSuites.has(key);
  const runner = borrowed ? here : tree;
  return new Promise((resolve) => {
    const args = [path.join(runner, 'bench/run.mjs'), '--only', suite, ...(smoke ? ['--smoke'] : [])];
    const env = borrowed ? { ...process.env, SONDE_BENCH_SUITES_DIR: path.join(tree, 'bench/suites') } : process.env;
    const child = spawn(process.execPath, args, { cwd: runner, env, stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('exit', () => {
      try {
        resolve(JSON.parse(readFileSync(path.join(runner, 'bench/results/latest.json'), 'utf8')));
      } catch (error) {
        resolve({ rows: [{ metric: 'suite failed', value: String(error.message) }], load: [] });
      }
    });
  });
}

export async function compare({ ref, suites, smoke, rounds, borrow = [] }) {
  const here = path.resolve(import.meta.dirname, '..');
  const sha = git(here, 'rev-parse', '--verify', `${ref}^{commit}`);
  const head = git(here, 'rev-parse', 'HEAD');
  const base = mkdtempSync(path.join(os.tmpdir(), 'sonde-bench-ref-'));
  // The agent runs as the `sonde` user when the bench runs as root: it must be able to read the other tree.
  chmodSync(base, 0o755);
  const tree = path.join(base, 'tree');
  process.stderr.write(`bench compare: ${ref} (${sha.slice(0, 10)}) in ${tree}\n`);
  git(here, 'worktree', 'add', '--quiet', '--detach', tree, sha);
  try {
    try {
      execFileSync('cp', ['-al', path.join(here, 'node_modules'), path.join(tree, 'node_modules')]);
    } catch {
      cpSync(path.join(here, 'node_modules'), path.join(tree, 'node_modules'), { recursive: true, verbatimSymlinks: true });
    }
    const started = performance.now();
    execFileSync('npm', ['run', 'build'], { cwd: tree, stdio: ['ignore', 'ignore', 'inherit'] });
    process.stderr.write(`bench compare: ${ref} built in ${Math.round((performance.now() - started) / 1000)} s\n`);
    const results = [];
    for (const suite of suites) {
      for (let round = 0; round < rounds; round++) {
        // Alternate which side goes first, so neither always gets the cooler or the warmer machine.
        const order = round % 2 === 0 ? ['ref', 'this'] : ['this', 'ref'];
        for (const side of order) {
          const report = await runSuite(side === 'ref' ? tree : here, suite, smoke, here, borrow);
          results.push({ suite, round, side, at: report.at, loadavg: report.loadavg, rows: report.rows });
          process.stderr.write(`bench compare: ${suite} round ${round + 1} ${side} done (load ${os.loadavg()[0].toFixed(1)})\n`);
        }
      }
    }
    return { at: new Date().toISOString(), node: process.version, cpus: os.cpus().length, ref, refSha: sha, head, smoke, borrow, results };
  } finally {
    rmSync(tree, { recursive: true, force: true });
    git(here, 'worktree', 'prune');
    rmSync(base, { recursive: true, force: true });
  }
}

const format = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 10 ? 3 : 1)) : String(v ?? ''));

/** One line per metric: this tree's values and the ref's, every round, and the change of the medians. */
export function compareTable(report) {
  const lines = [['suite', 'metric', 'unit', 'this', `${report.ref}`, 'change']];
  const keys = [];
  const values = new Map();
  for (const result of report.results) {
    for (const r of result.rows) {
      const key = `${result.suite}\u0000${r.metric}`;
      if (!values.has(key)) {
        keys.push(key);
        values.set(key, { unit: r.unit ?? '', this: [], ref: [] });
      }
      values.get(key)[result.side].push(r.value);
    }
  }
  const median = (xs) => {
    const nums = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
    return nums.length ? nums[Math.floor((nums.length - 1) / 2)] : undefined;
  };
  for (const key of keys) {
    const [suite, metric] = key.split('\u0000');
    const v = values.get(key);
    const a = median(v.this);
    const b = median(v.ref);
    const change = a !== undefined && b !== undefined && b !== 0 ? `${(((a - b) / Math.abs(b)) * 100).toFixed(0)} %` : '';
    lines.push([suite, metric, v.unit, v.this.map(format).join(' / '), v.ref.map(format).join(' / '), change]);
  }
  const widths = lines[0].map((_, i) => Math.max(...lines.map((row) => row[i].length)));
  return lines.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ')).join('\n');
}

export function writeCompare(report) {
  const out = path.join(import.meta.dirname, 'results');
  if (!existsSync(out)) mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'compare-latest.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(path.join(out, `compare-${report.at.replace(/[:.]/g, '-')}.json`), JSON.stringify(report, null, 2) + '\n');
}
