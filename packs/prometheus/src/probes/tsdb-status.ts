import { defineProbe, expectShape } from '@sonde/pack-sdk';
import { z } from 'zod';
import { API_PATHS, getData } from '../api.js';
import { Limit } from '../params.js';

const NameValue = z.object({ name: z.string(), value: z.number() });
const RawTsdb = z.object({
  headStats: z
    .object({
      numSeries: z.number(),
      numLabelPairs: z.number().optional(),
      chunkCount: z.number(),
      minTime: z.number(),
      maxTime: z.number(),
    })
    .optional(),
  seriesCountByMetricName: z.array(NameValue).default([]),
  labelValueCountByLabelName: z.array(NameValue).default([]),
  memoryInBytesByLabelName: z.array(NameValue).default([]),
  seriesCountByLabelValuePair: z.array(NameValue).default([]),
});

export const tsdbStatus = defineProbe({
  name: 'tsdb.status',
  description:
    'Cardinality of the TSDB head block: series, label pairs, chunks and time range, and the top metric names, label names and label pairs by series count (find what blows up memory).',
  params: z.strictObject({ top: Limit(10, 10).describe('Entries per top list (Prometheus returns at most 10).') }),
  result: z.object({
    head: z
      .object({
        numSeries: z.number(),
        numLabelPairs: z.number().nullable(),
        chunkCount: z.number(),
        minTime: z.string().nullable(),
        maxTime: z.string().nullable(),
      })
      .nullable(),
    seriesCountByMetricName: z.array(NameValue),
    labelValueCountByLabelName: z.array(NameValue),
    memoryInBytesByLabelName: z.array(NameValue),
    seriesCountByLabelValuePair: z.array(NameValue),
  }),
  timeoutMs: 15_000,
  openWorld: true,
  async handler(params, ctx) {
    const { data } = await getData(ctx, API_PATHS.tsdb);
    const raw = expectShape(RawTsdb, data, 'Prometheus tsdb status');
    // An empty head reports math.MaxInt64 / MinInt64 as its bounds; those are not times.
    const time = (ms: number): string | null => (Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : null);
    return {
      head: raw.headStats
        ? {
            numSeries: raw.headStats.numSeries,
            numLabelPairs: raw.headStats.numLabelPairs ?? null,
            chunkCount: raw.headStats.chunkCount,
            minTime: time(raw.headStats.minTime),
            maxTime: time(raw.headStats.maxTime),
          }
        : null,
      seriesCountByMetricName: raw.seriesCountByMetricName.slice(0, params.top),
      labelValueCountByLabelName: raw.labelValueCountByLabelName.slice(0, params.top),
      memoryInBytesByLabelName: raw.memoryInBytesByLabelName.slice(0, params.top),
      seriesCountByLabelValuePair: raw.seriesCountByLabelValuePair.slice(0, params.top),
    };
  },
});
