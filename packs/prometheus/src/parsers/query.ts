import { z } from 'zod';
import { sampleValue } from '../api.js';

/** GET /api/v1/query → data: { resultType, result } (Prometheus HTTP API, "Expression query result formats"). */
const RawSample = z.tuple([z.number(), z.string()]);
export const RawQueryResult = z.discriminatedUnion('resultType', [
  z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: RawSample })) }),
  z.object({
    resultType: z.literal('matrix'),
    result: z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(RawSample) })),
  }),
  z.object({ resultType: z.literal('scalar'), result: RawSample }),
  z.object({ resultType: z.literal('string'), result: RawSample }),
]);

export const SampleSchema = z.object({
  timestamp: z.number().describe('Unix seconds.'),
  value: z.number().nullable().describe('null for NaN and ±Inf; see valueText.'),
  valueText: z.string(),
});

export const QueryResultSchema = z.object({
  resultType: z.enum(['vector', 'matrix', 'scalar', 'string']),
  vector: z.array(z.object({ metric: z.record(z.string(), z.string()) }).extend(SampleSchema.shape)),
  matrix: z.array(z.object({ metric: z.record(z.string(), z.string()), samples: z.array(SampleSchema) })),
  scalar: SampleSchema.nullable(),
  string: z.object({ timestamp: z.number(), value: z.string() }).nullable(),
  seriesCount: z.number().int().describe('Series in the answer before the limit.'),
  truncated: z.boolean(),
  warnings: z.array(z.string()),
});

export type QueryResult = z.infer<typeof QueryResultSchema>;

function sample([timestamp, text]: [number, string]): z.infer<typeof SampleSchema> {
  return { timestamp, value: sampleValue(text), valueText: text };
}

export function toQueryResult(raw: z.infer<typeof RawQueryResult>, limit: number, warnings: string[]): QueryResult {
  const base = { vector: [], matrix: [], scalar: null, string: null, warnings };
  switch (raw.resultType) {
    case 'vector':
      return {
        ...base,
        resultType: 'vector',
        vector: raw.result.slice(0, limit).map((s) => ({ metric: s.metric, ...sample(s.value) })),
        seriesCount: raw.result.length,
        truncated: raw.result.length > limit,
      };
    case 'matrix':
      return {
        ...base,
        resultType: 'matrix',
        matrix: raw.result.slice(0, limit).map((s) => ({ metric: s.metric, samples: s.values.map(sample) })),
        seriesCount: raw.result.length,
        truncated: raw.result.length > limit,
      };
    case 'scalar':
      return { ...base, resultType: 'scalar', scalar: sample(raw.result), seriesCount: 1, truncated: false };
    case 'string':
      return {
        ...base,
        resultType: 'string',
        string: { timestamp: raw.result[0], value: raw.result[1] },
        seriesCount: 1,
        truncated: false,
      };
  }
}
