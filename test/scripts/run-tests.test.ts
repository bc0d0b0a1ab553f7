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
function runTests(fixture: string, env: Record<string, string> = {}): Promise<Run> {
  const label = `fixture-${process.pid}-${(runs += 1)}`;
  // The outer vitest's variables would make the inner one think it runs inside a worker.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^VITEST|^SONDE_/.test(name)));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['scripts/run-tests.mjs', '--label', label, '--config', CONFIG],
      { cwd: REPO, env: { ...clean, SONDE_FIXTURE: fixture, ...env }, timeout: 60_000 },
      (error, stdout) => {
        for (const name of [`vitest-${label}.json`, `skips-${label}.jsonl`, `durations-${label}.json`])
          rmSync(path.join(REPO, '.test-results', name), { force: true });
        const lines = stdout.trim().split('\n');
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, lastLine: lines[lines.length - 1] ?? '' });
      },
    );
  });
}

// Each case is a separate run with its own result files: they run side by side.
describe.concurrent('scripts/run-tests.mjs', () => {
  it('counts a suite that fails in beforeAll, with a skipped test, as failed and exits non-zero', async ({ expect }) => {
    const run = await runTests('{passes,setup-fails}.fixture.ts');
    expect(run.lastLine, run.stdout).toBe('1 passed, 1 failed');
    expect(run.code).not.toBe(0);
    expect(run.stdout).toContain('FAILED outside its tests: test/scripts/fixtures/setup-fails.fixture.ts');
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

  it('counts a run that broke before any test (no report) as failed', async ({ expect }) => {
    const run = await runTests('none-matches-this.fixture.ts');
    expect(run.lastLine, run.stdout).toBe('0 passed, 1 failed');
    expect(run.code).not.toBe(0);
  });
});
