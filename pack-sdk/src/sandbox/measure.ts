import { pathToFileURL } from 'node:url';
import { createHostContext, runProbe, type Pack, type Permissions } from '../index.js';
import { createSandboxRunner, type SandboxRunnerOptions } from './runner.js';
import { packageEntry } from './tree.js';

export interface SandboxOverhead {
  isolation: string;
  node: string;
  /** Spawn to pack loaded, one per start. */
  startupMs: number[];
  sandboxCallMs: { p50: number; p99: number; mean: number };
  inProcessCallMs: { p50: number; p99: number; mean: number };
  calls: number;
}

function summary(samples: number[]): { p50: number; p99: number; mean: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const round = (value: number): number => Math.round(value * 1000) / 1000;
  return { p50: round(at(0.5)), p99: round(at(0.99)), mean: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)) };
}

/**
 * Start-up cost of a pack process and the per-call cost of one probe through
 * the sandbox against the same probe run in-process (pack imported into this
 * process, pack-sdk's host context). For bench/: pass a pack with a no-op probe.
 */
export async function measureSandboxOverhead(
  options: Pick<SandboxRunnerOptions, 'packDir' | 'nodePath' | 'osSandbox' | 'childEntry' | 'prefixDir'> & {
    permissions: Permissions;
    probe: string;
    params?: unknown;
    calls?: number;
    starts?: number;
    /** The same pack loaded in this process, for the baseline; imported from packDir when absent. */
    inProcessPack?: Pack;
  },
): Promise<SandboxOverhead> {
  const calls = options.calls ?? 500;
  const startupMs: number[] = [];
  for (let i = 0; i < (options.starts ?? 3); i++) {
    const runner = createSandboxRunner(options);
    await runner.start();
    startupMs.push(Math.round((runner.state.startupMs ?? 0) * 10) / 10);
    await runner.close();
  }
  const runner = createSandboxRunner(options);
  const sandboxSamples: number[] = [];
  try {
    for (let i = 0; i < calls + 20; i++) {
      const started = performance.now();
      await runner.run(options.probe, options.params ?? {});
      if (i >= 20) sandboxSamples.push(performance.now() - started);
    }
  } finally {
    await runner.close();
  }
  const pack = options.inProcessPack ?? ((await import(pathToFileURL(packageEntry(options.packDir)).href)) as { default: Pack }).default;
  const inProcess: number[] = [];
  for (let i = 0; i < calls + 20; i++) {
    const started = performance.now();
    await runProbe(pack, options.probe, options.params ?? {}, (signal) => createHostContext({ permissions: options.permissions, signal }));
    if (i >= 20) inProcess.push(performance.now() - started);
  }
  return {
    isolation: runner.isolation,
    node: options.nodePath ?? process.execPath,
    startupMs,
    sandboxCallMs: summary(sandboxSamples),
    inProcessCallMs: summary(inProcess),
    calls,
  };
}
