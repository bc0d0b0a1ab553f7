import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { HUB_VERSION } from '../version.js';
import { defineRoute } from './define.js';

const HealthSchema = z.object({ status: z.literal('ok'), version: z.string(), uptimeS: z.number() });

/** `GET /api/v1/health` (no auth). The OpenAPI document is the `sonde-api` plugin's (plugins/api.ts). */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  const startedAt = Date.now();
  defineRoute(
    app,
    { method: 'GET', url: '/api/v1/health', summary: 'Liveness and version', tag: 'health', auth: 'none', response: HealthSchema },
    () => ({
      status: 'ok' as const,
      version: HUB_VERSION,
      uptimeS: Math.round((Date.now() - startedAt) / 1000),
    }),
  );
  await Promise.resolve();
};
