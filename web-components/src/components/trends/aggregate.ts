import type { CallRecord } from '../../internal/types.js';

export interface Bucket {
  start: number;
  calls: number;
  errors: number;
  p95Ms: number | null;
}
export interface GroupStats {
  key: string;
  calls: number;
  errors: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

/** Probe calls only (REST and MCP), each with its time, status and duration. */
export function probeCalls(entries: CallRecord[]): CallRecord[] {
  return entries.filter((e) => e.probe && (e.action === 'rest.probe' || e.action === 'mcp.tool_call'));
}

function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const isError = (e: CallRecord): boolean => e.status !== 'ok';

/** Splits [from, to) into `count` equal buckets: calls, errors and p95 latency in each. */
export function buckets(calls: CallRecord[], from: number, to: number, count: number): Bucket[] {
  const width = (to - from) / count;
  const out = Array.from({ length: count }, (_, i) => ({ start: from + i * width, durations: [] as number[], calls: 0, errors: 0 }));
  for (const call of calls) {
    const at = Date.parse(call.at);
    if (Number.isNaN(at) || at < from || at >= to) continue;
    const bucket = out[Math.min(count - 1, Math.floor((at - from) / width))];
    bucket.calls++;
    if (isError(call)) bucket.errors++;
    if (typeof call.durationMs === 'number') bucket.durations.push(call.durationMs);
  }
  return out.map((b) => ({
    start: b.start,
    calls: b.calls,
    errors: b.errors,
    p95Ms: percentile(
      b.durations.sort((x, y) => x - y),
      95,
    ),
  }));
}

/** Per probe or per agent: calls, error count, p50 and p95 latency; busiest first. */
export function groups(calls: CallRecord[], by: 'probe' | 'agent'): GroupStats[] {
  const map = new Map<string, { calls: number; errors: number; durations: number[] }>();
  for (const call of calls) {
    const keys = by === 'probe' ? [call.probe ?? '?'] : call.agents?.length ? call.agents : ['?'];
    for (const key of keys) {
      const g = map.get(key) ?? { calls: 0, errors: 0, durations: [] };
      g.calls++;
      if (isError(call)) g.errors++;
      if (typeof call.durationMs === 'number') g.durations.push(call.durationMs);
      map.set(key, g);
    }
  }
  return [...map.entries()]
    .map(([key, g]) => {
      const sorted = g.durations.sort((x, y) => x - y);
      return { key, calls: g.calls, errors: g.errors, p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95) };
    })
    .sort((a, b) => b.calls - a.calls || a.key.localeCompare(b.key));
}
