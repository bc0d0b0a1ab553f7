#!/usr/bin/env node
// The hostile-input suite at soak size, outside CI (issue 25): test/hostile/ with 100,000 agent frames, 100,000 hub
// frames against a real agent and 10,000 REST and /mcp requests per round (SONDE_FUZZ_FRAMES, SONDE_FUZZ_HUB_FRAMES,
// SONDE_FUZZ_REQUESTS override), a new seed each round, for SONDE_SOAK_MINUTES (default: one round). The files run
// one after another (no file parallelism), so /health latency is measured beside one load at a time.
//   node scripts/soak.mjs                        one round
//   SONDE_SOAK_MINUTES=60 node scripts/soak.mjs  an hour: the fuzz loops stop sending at the deadline and still check
//                                                everything, so the soak ends within its hour plus one round's checks
// Each round's seed is printed; a failing round is reported with its seed and the soak goes on (an hour's run tells
// more than its first failure). At the end it prints the figures issue 25 asks for, added up from the JSON lines the
// suites write (test/hostile/soak-report.ts): frames and requests tried, crashes, audit entries lost, memory before and
// after, the slowest /health. Exit code 1 when any round failed, a process crashed or an audit entry was lost.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '..');
const minutes = Number(process.env.SONDE_SOAK_MINUTES ?? 0);
const started = Date.now();
const deadline = started + minutes * 60_000;
/** Time kept back at the end for the last round's own checks (audit verify, memory, a real probe after, the other files). */
const TAIL_MS = 180_000;
/**
 * How long each fuzz suite sends in one round (SONDE_SOAK_SUITE_MINUTES, default 5 when timed): the counts are upper
 * bounds that a loaded machine does not reach in an hour, so time, not count, shares a round between the suites.
 */
const suiteMs = Number(process.env.SONDE_SOAK_SUITE_MINUTES ?? (minutes > 0 ? 5 : 0)) * 60_000;
/** A round is started only with this much time left (the suites' shares plus about 4 min of set-up and other files). */
const ROUND_MS = 3 * suiteMs + 240_000;
const MiB = 1024 * 1024;
const work = mkdtempSync(path.join(os.tmpdir(), 'sonde-soak-'));

const rounds = [];
let round = 0;
do {
  round += 1;
  const seed = String(Math.floor(Math.random() * 2 ** 31));
  const reportFile = path.join(work, `round-${round}.jsonl`);
  const resultFile = path.join(work, `round-${round}.json`);
  console.log(`soak round ${round}: seed ${seed} (${new Date().toISOString()}, load average ${os.loadavg()[0].toFixed(1)})`);
  const roundStarted = Date.now();
  const result = spawnSync(
    process.execPath,
    [
      path.join(REPO, 'node_modules/vitest/vitest.mjs'),
      'run',
      'test/hostile/',
      '--no-file-parallelism',
      '--reporter=default',
      '--reporter=json',
      `--outputFile=${resultFile}`,
    ],
    {
      cwd: REPO,
      stdio: 'inherit',
      env: {
        ...process.env,
        SONDE_FUZZ_SEED: seed,
        SONDE_FUZZ_FRAMES: process.env.SONDE_FUZZ_FRAMES ?? '100000',
        SONDE_FUZZ_HUB_FRAMES: process.env.SONDE_FUZZ_HUB_FRAMES ?? '100000',
        SONDE_FUZZ_REQUESTS: process.env.SONDE_FUZZ_REQUESTS ?? '10000',
        SONDE_FUZZ_REPORT: reportFile,
        ...(minutes > 0 ? { SONDE_FUZZ_DEADLINE: String(deadline - TAIL_MS) } : {}),
        ...(suiteMs > 0 ? { SONDE_FUZZ_BUDGET_MS: String(suiteMs) } : {}),
        // The vitest timeouts are sized for CI; a soak round runs for many minutes.
        SONDE_FUZZ_TIMEOUT_MS: String(4 * 3600_000),
      },
    },
  );
  const figures = existsSync(reportFile)
    ? readFileSync(reportFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line))
    : [];
  const failed = [];
  let vitestAnswered = false;
  if (existsSync(resultFile)) {
    vitestAnswered = true;
    const json = JSON.parse(readFileSync(resultFile, 'utf8'));
    for (const file of json.testResults ?? []) {
      for (const test of file.assertionResults ?? []) {
        if (test.status === 'failed')
          failed.push(
            `${path.relative(REPO, file.name)} › ${test.title}: ${(test.failureMessages?.[0] ?? '').split('\n')[0].slice(0, 300)}`,
          );
      }
      if (file.status === 'failed' && !(file.assertionResults ?? []).some((test) => test.status === 'failed'))
        failed.push(`${path.relative(REPO, file.name)}: ${(file.message ?? 'failed outside its tests').split('\n')[0].slice(0, 300)}`);
    }
  }
  // vitest itself gone (a signal, an out-of-memory kill, a crash of the process running an in-process hub):
  // a crash, whatever the suites managed to report.
  const vitestCrashed = result.signal !== null || !vitestAnswered || (result.status !== 0 && result.status !== 1);
  const seconds = Math.round((Date.now() - roundStarted) / 1000);
  rounds.push({ round, seed, status: result.status, signal: result.signal, seconds, figures, failed, vitestCrashed });
  console.log(
    `soak round ${round}: exit ${result.status ?? result.signal} after ${seconds} s` +
      (failed.length ? `; FAILED (replay with SONDE_FUZZ_SEED=${seed}):\n  ${failed.join('\n  ')}` : ''),
  );
} while (Date.now() + Math.min(ROUND_MS, (0.8 * (Date.now() - started)) / round) < deadline);
rmSync(work, { recursive: true, force: true });

// The figures over every round.
const all = rounds.flatMap((r) => r.figures.map((f) => ({ ...f, round: r.round })));
const bySuite = (suite) => all.filter((f) => f.suite === suite);
const sum = (list, field) => list.reduce((total, f) => total + (Number(f[field]) || 0), 0);
const framesTried = sum(all, 'frames');
const requestsTried = sum(bySuite('http-requests'), 'requests');
const crashes = sum(all, 'crashes') + rounds.filter((r) => r.vitestCrashed).length;
const auditRounds = bySuite('http-requests').filter((f) => typeof f.auditLost === 'number');
const auditLost = sum(auditRounds, 'auditLost');
const failedRounds = rounds.filter((r) => r.failed.length > 0 || r.status !== 0);
const mib = (bytes) => `${(bytes / MiB).toFixed(1)} MiB`;
const memoryLines = ['agent-frames', 'http-requests', 'hub-frames'].map((suite) => {
  const list = bySuite(suite).filter((f) => typeof f.memoryBeforeBytes === 'number');
  if (!list.length) return `  ${suite}: not measured`;
  const worst = list.reduce((a, b) => (b.memoryAfterBytes - b.memoryBeforeBytes > a.memoryAfterBytes - a.memoryBeforeBytes ? b : a));
  return (
    `  ${suite} (${list[0].memory}): first round ${mib(list[0].memoryBeforeBytes)} → ${mib(list[0].memoryAfterBytes)}, ` +
    `last round ${mib(list.at(-1).memoryBeforeBytes)} → ${mib(list.at(-1).memoryAfterBytes)}, ` +
    `largest growth in a round ${mib(worst.memoryAfterBytes - worst.memoryBeforeBytes)} (round ${worst.round})`
  );
});
const healthMax = Math.max(0, ...bySuite('http-requests').map((f) => f.healthMaxMs ?? 0));
const healthPolls = sum(bySuite('http-requests'), 'healthPolls');
const healthOver = sum(bySuite('http-requests'), 'healthOver100');
const slowMax = Math.max(0, ...bySuite('slow-clients').map((f) => f.healthMaxMs ?? 0));
console.log(
  [
    '',
    `soak summary: ${rounds.length} rounds in ${Math.round((Date.now() - started) / 60_000)} min (${new Date(started).toISOString()} to ${new Date().toISOString()})`,
    `  frames tried: ${framesTried.toLocaleString('en')} (agent frames ${sum(bySuite('agent-frames'), 'frames').toLocaleString('en')}, ` +
      `hostile-hub frames ${sum(bySuite('hub-frames'), 'frames').toLocaleString('en')})`,
    `  requests tried: ${requestsTried.toLocaleString('en')} REST and /mcp (${sum(bySuite('http-requests'), 'throttled')} answered 429; ` +
      `ended without a status line: ${sum(bySuite('http-requests'), 'closedWhileSending')} while the request was still being written, ` +
      `${sum(bySuite('http-requests'), 'closedAfterSending')} after it was sent)`,
    `  crashes: ${crashes}`,
    `  audit entries lost: ${auditLost} (measured in ${auditRounds.length} of ${rounds.length} rounds)`,
    '  memory before/after:',
    ...memoryLines,
    `  /health beside the request fuzz: slowest ${healthMax.toFixed(0)} ms, ${healthOver} of ${healthPolls} polls over 100 ms` +
      `; /health or /ready beside slow clients: slowest ${slowMax.toFixed(0)} ms`,
    `  load average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (${os.cpus().length} cores)`,
    `  failed rounds: ${failedRounds.length}${failedRounds.map((r) => `\n    round ${r.round}, seed ${r.seed}: ${r.failed.join('; ') || `exit ${r.status ?? r.signal}`}`).join('')}`,
  ].join('\n'),
);
process.exit(failedRounds.length || crashes || auditLost ? 1 : 0);
