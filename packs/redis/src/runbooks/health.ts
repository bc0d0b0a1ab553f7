import type { Finding, RunbookDefinition } from '@sonde/pack-sdk';
import type { MemoryResult } from '../parsers/memory.js';
import type { SlowlogResult } from '../parsers/slowlog.js';

interface InfoHeadline {
  role: string | null;
  blockedClients: number | null;
  rejectedConnections: number | null;
}

function failed(value: unknown): string | undefined {
  if (value && typeof value === 'object' && 'error' in value) {
    const error = value.error;
    return error && typeof error === 'object' && 'message' in error ? String(error.message) : String(error);
  }
  return undefined;
}

function info(result: InfoHeadline): Finding {
  const probe = 'info';
  if ((result.rejectedConnections ?? 0) > 0) {
    return { severity: 'warning', probe, summary: `${result.rejectedConnections} connection(s) rejected since start (maxclients reached)` };
  }
  if ((result.blockedClients ?? 0) > 0)
    return { severity: 'warning', probe, summary: `${result.blockedClients} client(s) blocked in a blocking command` };
  return { severity: 'ok', probe, summary: `${result.role ?? 'unknown role'}, no rejected connections` };
}

function memory(result: MemoryResult): Finding {
  const probe = 'memory';
  const used = result.usedPercentOfMax;
  if (used !== null && used >= 90)
    return { severity: 'critical', probe, summary: `memory at ${used}% of maxmemory (${result.maxmemoryPolicy})` };
  if (used !== null && used >= 75)
    return { severity: 'warning', probe, summary: `memory at ${used}% of maxmemory (${result.maxmemoryPolicy})` };
  if ((result.fragmentationRatio ?? 1) > 1.5 && result.usedBytes > 100 * 1024 * 1024) {
    return { severity: 'warning', probe, summary: `fragmentation ratio ${result.fragmentationRatio}: RSS far above used memory` };
  }
  if (used === null)
    return { severity: 'ok', probe, summary: `${Math.round(result.usedBytes / 1024 / 1024)} MiB used, no maxmemory limit set` };
  return { severity: 'ok', probe, summary: `memory at ${used}% of maxmemory` };
}

function slowlog(result: SlowlogResult): Finding {
  const probe = 'slowlog';
  const recent = result.entries.filter((e) => Date.now() - Date.parse(e.at) < 3600_000);
  const worst = Math.max(0, ...recent.map((e) => e.durationMicros));
  if (worst >= 1_000_000) return { severity: 'critical', probe, summary: `a command took ${Math.round(worst / 1000)} ms in the last hour` };
  if (recent.length > 0)
    return {
      severity: 'warning',
      probe,
      summary: `${recent.length} slow command(s) in the last hour, worst ${Math.round(worst / 1000)} ms`,
    };
  return { severity: 'ok', probe, summary: 'no slow commands in the last hour' };
}

export const healthRunbook: RunbookDefinition = {
  category: 'database-health',
  description: 'Redis health: rejected or blocked clients, memory against maxmemory and fragmentation, slow commands in the last hour.',
  steps: [{ probe: 'info' }, { probe: 'memory' }, { probe: 'slowlog', params: { count: 32 } }],
  evaluate(results) {
    const checks: Array<[string, (value: never) => Finding]> = [
      ['info', info],
      ['memory', memory],
      ['slowlog', slowlog],
    ];
    return checks.map(([probe, check]) => {
      const value = results[probe];
      const error = value === undefined ? 'no result' : failed(value);
      return error ? { severity: 'critical' as const, probe, summary: `could not check: ${error}`.slice(0, 300) } : check(value as never);
    });
  },
};
