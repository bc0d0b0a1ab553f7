// Runs the vitest suite and ends with the plain line CI reads: "N passed, N failed".
// Exit code is non-zero when anything failed or the run broke.
//
//   node scripts/run-tests.mjs [--runtime] [--label NAME] [vitest arguments…]
//
// --runtime   only the suites that depend on the Node runtime (vitest.runtime.config.ts);
//             CI runs them on its second Node line.
// --label     names this run's result files (.test-results/vitest-NAME.json), so two runs
//             (two Node lines) keep both reports for the slowest-files table.
// --lanes     run the suite as two vitest processes side by side (scripts/test-lanes.mjs says
//             which files go where and why); the default for the whole suite. --no-lanes runs one.
//             Vitest arguments (files, filters, --config) or --runtime mean one run, unless --lanes
//             is given: then every lane gets them, and the config must honour SONDE_TEST_LANE.
//
// Counting rules (the closing line must not say "0 failed" when something failed):
// - every failed test counts once;
// - a test file that failed outside its tests (an import error, a failing beforeAll or
//   afterAll) counts once more, even when its tests were only reported as skipped;
// - a run that exits non-zero with nothing counted as failed counts one failure
//   (an unhandled error between tests, a crashed worker).
// Skipped tests are listed with the reason their file recorded (test/support/preconditions.ts).
// SONDE_REQUIRE_PRECONDITIONS=name,… (set by .ci/run) makes a recorded precondition
// with one of those names that does not hold count as a failure: CI knows its machine
// can run those security tests, so a skip there hides a broken test or a broken machine.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LANES } from './test-lanes.mjs';
import { countResults, formatSlowest, readDurations, readSkipLog } from './test-report.mjs';

const root = path.resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const runtimeOnly = take('--runtime');
const label = takeValue('--label');
const forceLanes = take('--lanes');
const noLanes = take('--no-lanes');
const lanes = noLanes ? [undefined] : forceLanes || (!runtimeOnly && argv.length === 0) ? LANES : [undefined];
const resultsDir = path.join(root, '.test-results');
mkdirSync(resultsDir, { recursive: true });
const base = label ? `-${label}` : '';
const durations = path.join(resultsDir, `durations${base}.json`);

/** A lane's result files (.test-results/vitest-LABEL-LANE.json …); without lanes, the names earlier runs used. */
function files(lane) {
  const suffix = `${base}${lane ? `-${lane}` : ''}`;
  return {
    report: path.join(resultsDir, suffix ? `vitest${suffix}.json` : 'vitest.json'),
    skips: path.join(resultsDir, `skips${suffix}.jsonl`),
    durations: path.join(resultsDir, `durations${suffix}.json`),
  };
}

// A report left by an earlier run must never be counted as this run's.
for (const lane of lanes) for (const file of Object.values(files(lane))) rmSync(file, { force: true });
rmSync(durations, { force: true });

const vitest = path.join(root, 'node_modules/vitest/vitest.mjs');

/** One vitest process; with lanes, its output lines are prefixed with the lane's name (the two interleave). */
function runLane(lane) {
  const out = files(lane);
  const args = [
    vitest,
    'run',
    ...(runtimeOnly ? ['--config', 'vitest.runtime.config.ts'] : []),
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${out.report}`,
    '--reporter=./scripts/vitest-durations.mjs',
    ...argv,
  ];
  // process.execPath, not npx: the suite runs on the Node that runs this script (CI picks the line by PATH).
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: lane ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    env: {
      ...process.env,
      SONDE_SKIP_LOG: out.skips,
      SONDE_DURATIONS_FILE: out.durations,
      ...(lane ? { SONDE_TEST_LANE: lane } : {}),
    },
  });
  if (lane) {
    for (const [stream, sink] of [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ])
      prefixLines(stream, sink, `[${lane}] `);
  }
  return new Promise((resolve) => {
    child.once('error', (error) => {
      process.stderr.write(`vitest${lane ? ` (${lane})` : ''} did not start: ${error.message}\n`);
      resolve({ lane, status: 1, out });
    });
    child.once('close', (status) => resolve({ lane, status: status ?? 1, out }));
  });
}

/** Copies `stream` to `sink` a whole line at a time, each line prefixed, so two lanes' lines never mix mid-line. */
function prefixLines(stream, sink, prefix) {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop();
    if (lines.length) sink.write(lines.map((line) => prefix + line).join('\n') + '\n');
  });
  stream.on('end', () => {
    if (pending) sink.write(`${prefix}${pending}\n`);
  });
}

const runs = await Promise.all(lanes.map(runLane));

const required = (process.env.SONDE_REQUIRE_PRECONDITIONS ?? '')
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean);
let passed = 0;
let failed = 0;
const notes = [];
const times = [];
for (const run of runs) {
  const report = existsSync(run.out.report) ? JSON.parse(readFileSync(run.out.report, 'utf8')) : undefined;
  const result = countResults(report, { exitCode: run.status, skips: readSkipLog(run.out.skips), required, root });
  passed += result.passed;
  failed += result.failed;
  notes.push(...result.notes.map((note) => (run.lane ? `[${run.lane}] ${note}` : note)));
  if (run.lane) console.log(`lane ${run.lane}: ${result.passed} passed, ${result.failed} failed (vitest exit ${run.status})`);
  times.push(...readDurations(run.out.durations, root));
}
// One durations file per label whatever the lanes, for .ci/run's slowest-files table over both Node lines.
if (lanes.length > 1)
  writeFileSync(durations, `${JSON.stringify(times.map((row) => ({ file: path.join(root, row.file), ms: row.ms })))}\n`);
if (times.length) console.log(`\n${formatSlowest(times, 10)}`);
for (const line of notes) console.log(line);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && runs.every((run) => run.status === 0) ? 0 : 1);

function take(flag) {
  const at = argv.indexOf(flag);
  if (at === -1) return false;
  argv.splice(at, 1);
  return true;
}

function takeValue(flag) {
  const at = argv.indexOf(flag);
  if (at === -1) return undefined;
  const [, value] = argv.splice(at, 2);
  return value;
}
