import { defineProbe } from '@sonde/pack-sdk';
import { ConnectionParamsSchema, redis } from '../connection.js';
import { LatencyResultSchema, parseLatencyLatest } from '../parsers/latency.js';

export const latency = defineProbe({
  name: 'latency',
  description: 'Latest and maximum latency spikes per event from the latency monitor (LATENCY LATEST).',
  params: ConnectionParamsSchema,
  result: LatencyResultSchema,
  timeoutMs: 10_000,
  async handler(params, ctx) {
    return parseLatencyLatest(await redis(ctx, params, ['LATENCY', 'LATEST']));
  },
});
