import { z } from 'zod';
import { num, str, type InfoSections } from './info.js';

const StatValueSchema = z.union([z.number(), z.string(), z.null(), z.record(z.string(), z.union([z.number(), z.string(), z.null()]))]);

export const MemoryResultSchema = z.object({
  usedBytes: z.number().int().nonnegative(),
  rssBytes: z.number().int().nonnegative().nullable(),
  peakBytes: z.number().int().nonnegative().nullable(),
  maxmemoryBytes: z.number().int().nonnegative().describe('0 means no limit.'),
  maxmemoryPolicy: z.string().nullable(),
  usedPercentOfMax: z.number().nullable().describe('used_memory as % of maxmemory; null without a limit.'),
  fragmentationRatio: z.number().nullable(),
  datasetBytes: z.number().nullable(),
  keys: z.number().nullable(),
  stats: z.record(z.string(), StatValueSchema).describe('MEMORY STATS as returned by the server.'),
});
export type MemoryResult = z.infer<typeof MemoryResultSchema>;

/** MEMORY STATS under --json is an object; older servers without RESP3 give a flat [name, value, …] array. */
export function parseMemoryStats(stdout: string): Record<string, z.infer<typeof StatValueSchema>> {
  const parsed: unknown = JSON.parse(stdout);
  if (Array.isArray(parsed)) {
    const out: Record<string, unknown> = {};
    for (let i = 0; i + 1 < parsed.length; i += 2) out[String(parsed[i])] = parsed[i + 1];
    return z.record(z.string(), StatValueSchema).parse(out);
  }
  return z.record(z.string(), StatValueSchema).parse(parsed);
}

export function summarizeMemory(info: InfoSections, stats: Record<string, z.infer<typeof StatValueSchema>>): MemoryResult {
  const used = num(info, 'memory', 'used_memory') ?? 0;
  const max = num(info, 'memory', 'maxmemory') ?? 0;
  const statNumber = (key: string): number | null => (typeof stats[key] === 'number' ? stats[key] : null);
  return {
    usedBytes: used,
    rssBytes: num(info, 'memory', 'used_memory_rss'),
    peakBytes: num(info, 'memory', 'used_memory_peak'),
    maxmemoryBytes: max,
    maxmemoryPolicy: str(info, 'memory', 'maxmemory_policy'),
    usedPercentOfMax: max > 0 ? Math.round((used / max) * 1000) / 10 : null,
    fragmentationRatio: num(info, 'memory', 'mem_fragmentation_ratio'),
    datasetBytes: statNumber('dataset.bytes'),
    keys: statNumber('keys.count'),
    stats,
  };
}
