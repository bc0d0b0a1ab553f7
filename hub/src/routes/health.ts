import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { defineRoute } from './define.js';

const HealthSchema = z.object({ status: z.literal('ok'), version: z.string(), uptimeS: z.number() });

/** `GET /api/v1/health` (no auth) and the OpenAPI document generated from every declared route. */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  const { hub } = app;
  defineRoute(
    app,
    hub.api,
    hub.requireAdmin,
    { method: 'GET', url: '/api/v1/health', summary: 'Liveness and version', tag: 'health', auth: 'none', response: HealthSchema },
    () => ({
      status: 'ok' as const,
      version: hub.services.config.hubVersion,
      uptimeS: Math.round((Date.now() - hub.startedAt) / 1000),
    }),
  );
  app.get('/api/v1/openapi.json', () => hub.api.document({ version: hub.services.config.hubVersion, serverUrl: hub.config.publicUrl }));
  await Promise.resolve();
};
