import Fastify, { type FastifyInstance } from 'fastify';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mcpPlugin, type McpPluginOptions } from '../../../src/mcp/plugin.js';
import type { FakeServices } from './fake-services.js';

export interface Running {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** A real Fastify server on a loopback port with only the MCP plugin, as app.ts registers it. */
export async function startHub(services: FakeServices, options: Omit<McpPluginOptions, 'services'> = {}): Promise<Running> {
  const app = Fastify({ logger: false });
  await app.register(mcpPlugin, { services, ...options });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url: address, close: () => app.close() };
}

export interface ConnectOptions {
  key?: string;
  clientName?: string;
  path?: string;
  headers?: Record<string, string>;
}

/** The official SDK client over Streamable HTTP, with the key in the Authorization header. */
export async function connect(hub: Running, options: ConnectOptions = {}): Promise<Client> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  const transport = new StreamableHTTPClientTransport(new URL(`${hub.url}${options.path ?? '/mcp'}`), { requestInit: { headers } });
  const client = new Client({ name: options.clientName ?? 'sonde-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/** Parsed JSON, loosely typed for assertions. */
export type Json = ReturnType<typeof JSON.parse>;

/** The JSON a tool put in its text content. */
export function textJson(result: unknown): Json {
  const content = (result as { content: unknown }).content as Array<{ type: string; text?: string }>;
  const text = content.find((c) => c.type === 'text')?.text;
  return JSON.parse(text ?? 'null');
}
