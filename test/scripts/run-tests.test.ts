import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'vitest';

/**
 * scripts/run-tests.mjs writes the closing line CI reads. It is run here for real, as CI runs it,
 * on fixture suites (test/scripts/fixtures) whose outcome is known.
 */
const REPO = path.resolve(import.meta.dirname, '../..');
const CONFIG = 'test/scripts/fixtures/vitest.config.ts';

interface Run {
  code: number;
  stdout: string;
  lastLine: string;
}

let runs = 0;
function runTests(fixture: string, env: Record<string, string> = {}, extra: string[] = []): Promise<Run> {
  const label = `fixture-${process.pid}-${(runs += 1)}`;
  // The outer vitest's variables would make the inner one think it runs inside a worker.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^VITEST|^SONDE_/.test(name)));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['scripts/run-tests.mjs', '--label', label, ...extra, '--config', CONFIG],
      { cwd: REPO, env: { ...clean, SONDE_FIXTURE: fixture, ...env }, timeout: 60_000 },
      (error, stdout) => {
        for (const lane of ['', '-processes', '-rest'])
          for (const name of [`vitest-${label}${lane}.json`, `skips-${label}${lane}.jsonl`, `durations-${label}${lane}.json`])
            rmSync(path.join(REPO, '.test-results', name), { force: true });
        const lines = stdout.trim().split('\n');
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, lastLine: lines[lines.length - 1] ?? '' });
      },
    );
  });
}

// Each case is a separate run with its own result files: they run side by side.
// Each case starts one or two whole vitest processes: on a loaded 2-core host that alone can take tens of seconds.
describe.concurrent('scripts/run-tests.mjs', { timeout: 120_000 }, () => {
  it('counts a suite that fails in beforeAll, with a skipped test, as failed and exits non-zero', async ({ expect }) => {
    const run = await runTests('{passes,setup-fails}.fixture.ts');
    expect(run.lastLine, run.stdout).toBe('1 passed, 1 failed');
    expect(run.code).not.toBe(0);
    expect(run.stdout).toContain('FAILED outside its tests: test/scripts/fixtures/setup-fails.fixture.ts');
  });

  it('names each failed test and its first message line above the closing line', async ({ expect }) => {
    const run = await runTests('{passes,fails}.fixture.ts');
    expect(run.lastLine, run.stdout).toBe('1 passed, 1 failed');
    expect(run.code).not.toBe(0);
    const lines = run.stdout.trim().split('\n');
    const named = lines.findIndex((line) =>
      line.startsWith('FAILED: test/scripts/fixtures/fails.fixture.ts > a suite with a failing test fails on purpose: '),
    );
    expect(named, run.stdout).toBeGreaterThan(-1);
    expect(lines[named]).toContain('the sum on purpose');
    expect(named, 'printed after the slowest-files table, near the tail').toBeGreaterThan(lines.findIndex((l) => l.startsWith('slowest')));
  });

  it('passes a clean run with exit 0 and lists the slowest files', async ({ expect }) => {
    const run = await runTests('passes.fixture.ts');
    expect(run.lastLine, run.stdout).toBe('1 passed, 0 failed');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/slowest 10 test files:\n\s+\d+\.\d s {2}test\/scripts\/fixtures\/passes\.fixture\.ts/);
  });

  it('prints why a test was skipped, and fails when CI requires the precondition that did not hold', async ({ expect }) => {
    const [local, ci] = await Promise.all([
      runTests('precondition.fixture.ts'),
      runTests('precondition.fixture.ts', { SONDE_REQUIRE_PRECONDITIONS: 'root,fixture-capability' }),
    ]);
    expect(local.lastLine, local.stdout).toBe('0 passed, 0 failed');
    expect(local.code).toBe(0);
    expect(local.stdout).toContain(
      'skipped 1 in test/scripts/fixtures/precondition.fixture.ts: the fixture pretends this machine lacks it',
    );

    expect(ci.lastLine, ci.stdout).toBe('0 passed, 1 failed');
    expect(ci.code).not.toBe(0);
  });

  it('runs two lanes side by side and counts both: a failure in one fails the run', async ({ expect }) => {
    const run = await runTests('{passes,setup-fails}.fixture.ts', {}, ['--lanes']);
    expect(run.lastLine, run.stdout).toBe('1 passed, 1 failed');
    expect(run.code).not.toBe(0);
    expect(run.stdout).toContain('lane processes: 0 passed, 1 failed');
    expect(run.stdout).toContain('lane rest: 1 passed, 0 failed (vitest exit 0)');
    expect(run.stdout).toContain('[processes] FAILED outside its tests: test/scripts/fixtures/setup-fails.fixture.ts');
    // Each lane's own output, prefixed line by line: the passing fixture ran in the rest lane only.
    expect(run.stdout).toMatch(/^\[rest\] .*passes\.fixture\.ts/m);
    expect(run.stdout).not.toMatch(/^\[processes\] .*passes\.fixture\.ts/m);
    // Both lanes' files in the one slowest-files table.
    expect(run.stdout).toMatch(/slowest 10 test files:[^]*setup-fails\.fixture\.ts/);
    expect(run.stdout).toMatch(/slowest 10 test files:[^]*passes\.fixture\.ts/);
  });

  it('counts a run that broke before any test (no report) as failed', async ({ expect }) => {
    const run = await runTests('none-matches-this.fixture.ts');
    expect(run.lastLine, run.stdout).toBe('0 passed, 1 failed');
    expect(run.code).not.toBe(0);
  });
});
