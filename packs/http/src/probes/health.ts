import { defineProbe, isSondeError, buildUrl, endpointOrigin, redact } from '@sonde/pack-sdk';
import { z } from 'zod';
import { authHeaders } from '../auth.js';
import { RelativePath } from '../params.js';

export const health = defineProbe({
  name: 'health',
  description:
    'Is the endpoint up? GETs a health path and reports reachable, the status, ok (2xx), latency, content type and where a redirect points. A status, refusal or timeout is a result here, not an error.',
  params: z.strictObject({
    path: RelativePath.default('/').describe('Health path, e.g. /healthz, /-/ready, /status.'),
    timeoutMs: z.number().int().min(100).max(10_000).default(5_000),
  }),
  result: z.object({
    path: z.string(),
    reachable: z.boolean(),
    status: z.number().int().nullable(),
    ok: z.boolean(),
    latencyMs: z.number(),
    contentType: z.string().nullable(),
    redirectTo: z.string().nullable(),
    error: z.string().nullable(),
  }),
  timeoutMs: 15_000,
  openWorld: true,
  async handler(params, ctx) {
    const url = buildUrl(endpointOrigin(ctx, 'HTTP'), params.path);
    const started = performance.now();
    try {
      const response = await ctx.http(url.href, { headers: authHeaders(ctx), timeoutMs: params.timeoutMs, maxBytes: 4096 });
      const location = response.headers.location;
      return {
        path: params.path,
        reachable: true,
        status: response.status,
        ok: response.status >= 200 && response.status < 300,
        latencyMs: Math.round((performance.now() - started) * 10) / 10,
        contentType: response.headers['content-type'] ?? null,
        redirectTo: location ? redact(location, Object.values(ctx.credentials)).slice(0, 500) : null,
        error: null,
      };
    } catch (error) {
      // A refused permission is the pack's problem, not the endpoint's health: let it surface.
      if (!isSondeError(error) || error.code === 'SONDE_ERR_PERMISSION_DENIED') throw error;
      return {
        path: params.path,
        reachable: false,
        status: null,
        ok: false,
        latencyMs: Math.round((performance.now() - started) * 10) / 10,
        contentType: null,
        redirectTo: null,
        error: `${error.code}: ${redact(error.message, Object.values(ctx.credentials))}`.slice(0, 300),
      };
    }
  },
});
