import { defineProbe } from '@sonde/pack-sdk';
import { ConnectionParamsSchema, redis } from '../connection.js';
import { parseInfo } from '../parsers/info.js';
import { MemoryResultSchema, parseMemoryStats, summarizeMemory } from '../parsers/memory.js';

export const memory = defineProbe({
  name: 'memory',
  description:
    'Memory use against maxmemory (% used, eviction policy), RSS, peak, fragmentation ratio, dataset size, and the full MEMORY STATS breakdown.',
  params: ConnectionParamsSchema,
  result: MemoryResultSchema,
  timeoutMs: 10_000,
  async handler(params, ctx) {
    const info = parseInfo(await redis(ctx, params, ['INFO', 'memory']));
    const stats = parseMemoryStats(await redis(ctx, params, ['MEMORY', 'STATS']));
    return summarizeMemory(info, stats);
  },
});
