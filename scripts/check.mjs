// `npm run check` after the build: type-check (sources and tests), API types, the web components' types, dependency
// boundaries, lint and format, in two lanes at once. Each tool runs on one thread (the native tsc with --singleThreaded,
// eslint, prettier), so run one after another they leave a core of a 2-core machine idle for the whole check; two lanes
// use both. Each step's output is printed whole when it ends (never interleaved with the other lane's), with its time;
// a failing step stops nothing, so one run shows every problem. Exit 1 when any step failed.
//
//   node scripts/check.mjs            (after `npm run build`)
import { spawn } from 'node:child_process';
import path from 'node:path';
import { tscCommand } from './tsc.mjs';

const root = path.resolve(import.meta.dirname, '..');
const bin = (name) => path.join(root, 'node_modules/.bin', name);
/**
 * The native TypeScript compiler (scripts/tsc.mjs). Measured on this machine (2026-12-07, CPU time): tsconfig.json 10 s
 * against 5.9's 37 s, web-components 1.5 s against ~8 s.
 */
const tsc = (...args) => tscCommand(args);

/**
 * Two lanes, balanced by CPU time measured on this machine (2026-12-07): eslint with its type-aware rules ~150 s alone;
 * prettier ~42 s, tsc ~10 s, api-types ~6 s, the web components' tsc ~1.5 s, boundaries <1 s.
 */
export const LANES = [
  [
    tsc('-p', 'tsconfig.json', '--noEmit'),
    [process.execPath, 'scripts/api-types.mjs', '--check'],
    tsc('-p', 'web-components'),
    [process.execPath, 'scripts/check-boundaries.mjs'],
    [bin('prettier'), '--check', '.', '--log-level', 'warn'],
  ],
  [[bin('eslint'), '.']],
];

function step(command) {
  const started = performance.now();
  const name = [path.basename(command[0]), ...command.slice(1)].join(' ');
  return new Promise((resolve) => {
    const child = spawn(command[0], command.slice(1), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', (error) => (output += `${error.message}\n`));
    child.once('close', (code) => {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      process.stdout.write(`${code === 0 ? 'ok  ' : 'FAIL'} ${name} (${seconds} s)\n${output.trim() ? `${output.trimEnd()}\n` : ''}`);
      resolve(code === 0);
    });
  });
}

async function lane(commands) {
  let ok = true;
  // Every step runs even after one failed: the steps are independent, and CI should show every problem in one run.
  for (const command of commands) ok = (await step(command)) && ok;
  return ok;
}

const results = await Promise.all(LANES.map(lane));
process.exit(results.every(Boolean) ? 0 : 1);
