// Runs the vitest suite and ends with the plain line CI reads: "N passed, N failed".
// Exit code is non-zero when anything failed or the run broke.
//
//   node scripts/run-tests.mjs [--runtime] [--label NAME] [vitest arguments…]
//
// --runtime   only the suites that depend on the Node runtime (vitest.runtime.config.ts);
//             CI runs them on its second Node line.
// --label     names this run's result files (.test-results/vitest-NAME.json), so two runs
//             (two Node lines) keep both reports for the slowest-files table.
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
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { countResults, formatSlowest, readDurations, readSkipLog } from './test-report.mjs';

const root = path.resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const runtimeOnly = take('--runtime');
const label = takeValue('--label');
const resultsDir = path.join(root, '.test-results');
const out = path.join(resultsDir, label ? `vitest-${label}.json` : 'vitest.json');
const skipLog = path.join(resultsDir, label ? `skips-${label}.jsonl` : 'skips.jsonl');
const durations = path.join(resultsDir, label ? `durations-${label}.json` : 'durations.json');
mkdirSync(resultsDir, { recursive: true });
// A report left by an earlier run must never be counted as this run's.
for (const file of [out, skipLog, durations]) rmSync(file, { force: true });

const vitest = path.join(root, 'node_modules/vitest/vitest.mjs');
const args = [
  vitest,
  'run',
  ...(runtimeOnly ? ['--config', 'vitest.runtime.config.ts'] : []),
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${out}`,
  '--reporter=./scripts/vitest-durations.mjs',
  ...argv,
];
// process.execPath, not npx: the suite runs on the Node that runs this script (CI picks the line by PATH).
const run = spawnSync(process.execPath, args, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, SONDE_SKIP_LOG: skipLog, SONDE_DURATIONS_FILE: durations },
});

const report = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : undefined;
const required = (process.env.SONDE_REQUIRE_PRECONDITIONS ?? '')
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean);
const result = countResults(report, { exitCode: run.status ?? 1, skips: readSkipLog(skipLog), required, root });
const times = readDurations(durations, root);
if (times.length) console.log(`\n${formatSlowest(times, 10)}`);
for (const line of result.notes) console.log(line);
console.log(`${result.passed} passed, ${result.failed} failed`);
process.exit(result.failed === 0 && run.status === 0 ? 0 : 1);

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
