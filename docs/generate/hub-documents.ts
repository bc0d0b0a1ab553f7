import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp, loadConfig } from '@sonde/hub';

export interface McpTool {
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}
export interface HubDocuments {
  openapi: Record<string, unknown>;
  /** `tools/list` on `/mcp` of a hub with no agents and no integration packs: the tools every hub serves. */
  mcpTools: McpTool[];
}

/**
 * Starts the real hub in this process on a throw-away database (no port is opened: requests go through Fastify's
 * inject) and asks it, through its public API only, for its OpenAPI document and its MCP tool list.
 */
export async function fetchHubDocuments(): Promise<HubDocuments> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sonde-docs-'));
  const password = 'docs-generator-password';
  const config = loadConfig({
    SONDE_SECRET: 'docs-generator-secret-'.padEnd(48, 'x'),
    SONDE_DB_PATH: path.join(dir, 'hub.db'),
    SONDE_ADMIN_USER: 'admin',
    SONDE_ADMIN_PASSWORD: password,
    SONDE_LOG_LEVEL: 'silent',
    SONDE_PUBLIC_URL: 'https://sonde.example.com',
  });
  const app = await buildApp(config, { logger: false });
  try {
    const openapi = await app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    if (openapi.statusCode !== 200) throw new Error(`GET /api/v1/openapi.json answered ${openapi.statusCode}`);

    const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { user: 'admin', password } });
    if (login.statusCode !== 200) throw new Error(`login answered ${login.statusCode}: ${login.body}`);
    const cookie = login.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      // A change made with the session cookie carries the header the dashboard sends (the hub's CSRF check).
      headers: { cookie, 'x-sonde-csrf': '1' },
      payload: { name: 'docs-generator', role: 'admin' },
    });
    if (created.statusCode >= 300) throw new Error(`creating an API key answered ${created.statusCode}: ${created.body}`);
    const rawKey = created.json<{ rawKey: string }>().rawKey;

    const list = await app.inject({
      method: 'POST',
      url: '/mcp',
      headers: { authorization: `Bearer ${rawKey}`, accept: 'application/json, text/event-stream', 'content-type': 'application/json' },
      payload: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
    });
    if (list.statusCode !== 200) throw new Error(`MCP tools/list answered ${list.statusCode}: ${list.body}`);
    const tools = list.json<{ result?: { tools?: McpTool[] } }>().result?.tools;
    if (!tools) throw new Error(`MCP tools/list answered without tools: ${list.body}`);
    return { openapi: openapi.json<Record<string, unknown>>(), mcpTools: tools };
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
