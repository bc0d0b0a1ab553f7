// Small statistics helpers shared by the benchmark suites, and the CPU reading the stand-alone scripts share.
import { readFileSync } from 'node:fs';

/**
 * User + system CPU of a process so far, in ms, every thread (/proc/<pid>/stat; 100 clock ticks a second on Linux).
 * Throws when the process is gone. The suites keep their own copy: `--compare --borrow` runs a suite against an
 * older tree's lib.mjs, which may not have this.
 */
export function cpuMsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, v) => sum + v, 0) / (sorted.length || 1);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean, max: sorted[sorted.length - 1] };
}

/** Times `fn` n times (after a warm-up) and returns per-call milliseconds. */
export async function timeCalls(n, fn, warmup = Math.min(200, Math.ceil(n / 10))) {
  for (let i = 0; i < warmup; i++) await fn(i);
  const samples = new Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    samples[i] = performance.now() - t0;
  }
  return samples;
}

export function row(metric, value, unit, goal, met) {
  return { metric, value, unit, goal: goal ?? '', met };
}
