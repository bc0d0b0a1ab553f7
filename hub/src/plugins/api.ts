import fp from 'fastify-plugin';
import { ApiRegistry } from '../routes/define.js';
import { HUB_VERSION } from '../version.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every REST route declared with defineRoute (routes/define.ts), for `/api/v1/openapi.json`. */
    api: ApiRegistry;
  }
}

/**
 * The REST API's description: the registry every area's defineRoute adds its routes to, and the OpenAPI document
 * generated from it (read when asked, so it lists the routes of every area registered after this plugin).
 */
export const apiPlugin = fp(
  async (app) => {
    const api = new ApiRegistry();
    app.decorate('api', api);
    app.get('/api/v1/openapi.json', { config: { auth: 'none' } }, () =>
      api.document({ version: HUB_VERSION, serverUrl: app.hubConfig.publicUrl }),
    );
    await Promise.resolve();
  },
  { name: 'sonde-api', fastify: '5.x', dependencies: ['sonde-core', 'sonde-auth'] },
);
