import { callApi, defineProbe, expectShape } from '@sonde/pack-sdk';
import { z } from 'zod';
import { HealthAnswerSchema, HealthSchema, toHealth } from './parse.js';

/**
 * A probe reads; it never changes anything. It reaches the product only
 * through `ctx` (here via callApi), and only the endpoint and paths that
 * `permissions` in src/index.ts declares. The operator configures the endpoint
 * and the credential per integration instance on the hub.
 */
export const probe = defineProbe({
  name: '{{probeName}}',
  description:
    'Health of the service: up, degraded (a component is down) or down, its version and each component. Use first when the service misbehaves.',
  params: z.object({}).strict(),
  result: HealthSchema,
  timeoutMs: 10_000,
  openWorld: true,
  async handler(_params, ctx) {
    const token = ctx.credentials.apiToken;
    const auth: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
    const response = await callApi(ctx, 'service', { path: '/api/health' }, auth);
    return toHealth(expectShape(HealthAnswerSchema, response.body, 'service /api/health'));
  },
});
