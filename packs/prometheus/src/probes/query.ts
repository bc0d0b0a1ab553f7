import { defineProbe, isSondeError, SondeError, expectShape } from '@sonde/pack-sdk';
import { z } from 'zod';
import { API_PATHS, getData } from '../api.js';
import { Limit, PromQL, Timestamp } from '../params.js';
import { QueryResultSchema, RawQueryResult, toQueryResult } from '../parsers/query.js';

export const query = defineProbe({
  name: 'query',
  description:
    'Evaluates one PromQL expression at an instant (now, or `time`) and returns typed results: vector samples with labels and numeric values, matrix series for range selectors, or a scalar. Values that are NaN or ±Inf come back as null with the text kept.',
  params: z.strictObject({
    query: PromQL.describe('PromQL expression, e.g. up == 0 or sum by (job) (rate(http_requests_total[5m])).'),
    time: Timestamp.optional(),
    limit: Limit(100, 1000).describe('Maximum series returned.'),
  }),
  result: QueryResultSchema,
  timeoutMs: 30_000,
  openWorld: true,
  async handler(params, ctx) {
    // Prometheus stops evaluating at its own timeout, a little before ours.
    const q = { query: params.query, time: params.time, timeout: '25s' };
    try {
      const { data, warnings } = await getData(ctx, API_PATHS.query, q);
      return toQueryResult(expectShape(RawQueryResult, data, 'Prometheus query'), params.limit, warnings);
    } catch (error) {
      // bad_data (400) and execution errors (422) are the expression's fault, not the server's.
      if (isSondeError(error) && (error.details?.status === 400 || error.details?.status === 422)) {
        throw new SondeError('SONDE_ERR_INVALID_PARAMS', `Prometheus rejected the query: ${error.message}`, error.details);
      }
      throw error;
    }
  },
});
