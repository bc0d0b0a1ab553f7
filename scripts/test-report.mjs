// Reads vitest's JSON report (jest's format) for scripts/run-tests.mjs and .ci/run:
// the counts for the closing line, why tests were skipped, and the slowest files.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const SKIPPED = new Set(['skipped', 'pending', 'todo']);

/** The preconditions test files recorded as not holding (test/support/preconditions.ts writes one JSON object a line). */
export function readSkipLog(file) {
  if (!existsSync(file)) return [];
  const entries = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      entries.push(JSON.parse(line));
    } catch {
      // A worker killed mid-write leaves half a line; the other lines still count.
    }
  }
  return entries;
}

const firstLine = (text) =>
  String(text ?? '')
    .trim()
    .split('\n')[0]
    .slice(0, 300);

/**
 * passed/failed for the closing line, plus notes to print above it.
 * A file that failed outside its tests (import error, failing beforeAll/afterAll) counts as one failure
 * even when vitest reported its tests as skipped; a non-zero exit with nothing failed counts one.
 */
export function countResults(report, { exitCode, skips = [], required = [], root = process.cwd() }) {
  const notes = [];
  if (!report) return { passed: 0, failed: 1, notes: ['FAILED: the test run wrote no report (vitest did not start, or crashed)'] };
  let passed = 0;
  let failed = 0;
  const reasonsByFile = new Map();
  for (const skip of skips) {
    const list = reasonsByFile.get(skip.file) ?? [];
    if (!list.includes(skip.reason)) list.push(skip.reason);
    reasonsByFile.set(skip.file, list);
  }
  for (const file of report.testResults ?? []) {
    const rel = path.relative(root, file.name);
    const tests = file.assertionResults ?? [];
    passed += tests.filter((t) => t.status === 'passed').length;
    const failedTests = tests.filter((t) => t.status === 'failed').length;
    failed += failedTests;
    // Named here, above the closing line: a CI log is often read from its tail only.
    for (const test of tests.filter((t) => t.status === 'failed'))
      notes.push(`FAILED: ${rel} > ${test.fullName ?? test.title}: ${firstLine(test.failureMessages?.[0]) || 'no message'}`);
    if (file.status === 'failed' && failedTests === 0) {
      failed += 1;
      notes.push(`FAILED outside its tests: ${rel}: ${firstLine(file.message) || 'its setup or teardown failed (error printed above)'}`);
    }
    const skipped = tests.filter((t) => SKIPPED.has(t.status)).length;
    if (skipped > 0 && !(file.status === 'failed' && failedTests === 0)) {
      const reasons = reasonsByFile.get(rel) ?? reasonsByFile.get(file.name) ?? [];
      notes.push(`skipped ${skipped} in ${rel}: ${reasons.length ? reasons.join('; ') : 'no reason recorded'}`);
    }
  }
  for (const skip of skips) {
    if (required.includes(skip.name)) {
      failed += 1;
      notes.push(
        `FAILED: ${skip.file} skips tests because "${skip.name}" does not hold (${skip.reason}), but this machine must provide it`,
      );
    }
  }
  if (exitCode !== 0 && failed === 0) {
    failed = 1;
    notes.push(`FAILED: vitest exited with ${exitCode} while no test failed (an error outside any test; see its output above)`);
  }
  return { passed, failed, notes };
}

/** Each file's wall time as scripts/vitest-durations.mjs wrote it, paths relative to the repository. */
export function readDurations(file, root = process.cwd()) {
  if (!existsSync(file)) return [];
  try {
    return JSON.parse(readFileSync(file, 'utf8')).map((row) => ({ file: path.relative(root, row.file), ms: row.ms }));
  } catch {
    return [];
  }
}

/** The slowest files (rows of { file, ms, line? }), one line each, slowest first. */
export function formatSlowest(rows, count = 10, title = `slowest ${count} test files`) {
  const top = [...rows].sort((a, b) => b.ms - a.ms).slice(0, count);
  return [
    `${title}:`,
    ...top.map((row) => `  ${(row.ms / 1000).toFixed(1).padStart(7)} s  ${row.file}${row.line ? `  (${row.line})` : ''}`),
  ].join('\n');
}
