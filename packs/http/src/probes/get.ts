import { defineProbe, callApi } from '@sonde/pack-sdk';
import { z } from 'zod';
import { authHeaders } from '../auth.js';
import { QueryParams, RelativePath, safeHeaders } from '../params.js';

export const get = defineProbe({
  name: 'get',
  description:
    'GETs a path on the configured endpoint and returns the status, descriptive response headers and the JSON body. Non-2xx answers, redirects (never followed) and non-JSON bodies are errors with the reason.',
  params: z.strictObject({
    path: RelativePath.default('/').describe('Path on the endpoint, e.g. /api/status; no query string here.'),
    query: QueryParams.optional().describe('Query parameters, URL-encoded by the pack.'),
    maxBytes: z
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024)
      .default(256 * 1024),
  }),
  result: z.object({
    path: z.string(),
    status: z.number().int(),
    headers: z.record(z.string(), z.string()),
    body: z.unknown().describe('The parsed JSON body.'),
  }),
  timeoutMs: 15_000,
  openWorld: true,
  async handler(params, ctx) {
    const response = await callApi(ctx, 'HTTP', { path: params.path, query: params.query, maxBytes: params.maxBytes }, authHeaders(ctx));
    return { path: params.path, status: response.status, headers: safeHeaders(response.headers), body: response.body };
  },
});
