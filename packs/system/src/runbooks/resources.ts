import type { Finding, RunbookDefinition } from '@sonde/pack-sdk';

interface DiskResult {
  filesystems: Array<{ mountpoint: string; usedPercent: number | null }>;
}
interface MemoryResult {
  usedPercent: number;
  swapUsedPercent: number;
}
interface LoadResult {
  load1PerCpu: number;
  load5: number;
  cpus: number;
}

function failed(results: Record<string, unknown>, probe: string): Finding | undefined {
  const value = results[probe] as { error?: unknown } | undefined;
  if (value === undefined) return { severity: 'warning', summary: `${probe} returned nothing`, probe };
  if (value && typeof value === 'object' && 'error' in value) {
    const error = value.error as { message?: string } | string;
    return {
      severity: 'warning',
      summary: `${probe} failed: ${typeof error === 'string' ? error : (error.message ?? 'unknown error')}`.slice(0, 300),
      probe,
    };
  }
  return undefined;
}

export function evaluateDisk(result: DiskResult): Finding {
  const worst = result.filesystems.reduce<{ mountpoint: string; usedPercent: number } | undefined>(
    (acc, fs) =>
      fs.usedPercent !== null && (!acc || fs.usedPercent > acc.usedPercent)
        ? { mountpoint: fs.mountpoint, usedPercent: fs.usedPercent }
        : acc,
    undefined,
  );
  if (!worst) return { severity: 'ok', summary: 'no disk-backed filesystems reported', probe: 'disk.usage' };
  const severity = worst.usedPercent >= 95 ? 'critical' : worst.usedPercent >= 85 ? 'warning' : 'ok';
  return { severity, summary: `fullest filesystem ${worst.mountpoint} is ${worst.usedPercent}% used`, probe: 'disk.usage' };
}

export function evaluateMemory(result: MemoryResult): Finding {
  const severity = result.usedPercent >= 95 ? 'critical' : result.usedPercent >= 85 || result.swapUsedPercent >= 50 ? 'warning' : 'ok';
  return { severity, summary: `memory ${result.usedPercent}% used, swap ${result.swapUsedPercent}% used`, probe: 'memory.usage' };
}

export function evaluateLoad(result: LoadResult): Finding {
  const severity = result.load1PerCpu >= 4 ? 'critical' : result.load1PerCpu >= 1.5 ? 'warning' : 'ok';
  return {
    severity,
    summary: `load ${result.load1PerCpu} per CPU over 1 min (${result.cpus} CPUs, 5 min load ${result.load5})`,
    probe: 'load.average',
  };
}

export const resourcesRunbook: RunbookDefinition = {
  category: 'resources',
  description: 'Is the host short of disk, memory or CPU? Checks disk space, memory and load per CPU against fixed thresholds.',
  steps: [{ probe: 'disk.usage' }, { probe: 'memory.usage' }, { probe: 'load.average' }],
  evaluate(results) {
    return [
      failed(results, 'disk.usage') ?? evaluateDisk(results['disk.usage'] as DiskResult),
      failed(results, 'memory.usage') ?? evaluateMemory(results['memory.usage'] as MemoryResult),
      failed(results, 'load.average') ?? evaluateLoad(results['load.average'] as LoadResult),
    ];
  },
};
