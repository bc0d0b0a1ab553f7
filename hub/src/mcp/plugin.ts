import type { FastifyPluginAsync } from 'fastify';
import type { HubServices } from '../services.js';

export interface McpPluginOptions {
  services: HubServices;
}

/** Placeholder until the MCP layer lands: answers 503 so a client sees why. */
export const mcpPlugin: FastifyPluginAsync<McpPluginOptions> = async (app) => {
  app.all('/mcp', async (_request, reply) => reply.code(503).send({ error: { code: 'SONDE_ERR_NOT_READY', message: 'MCP endpoint not built yet' } }));
};
