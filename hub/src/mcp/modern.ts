import { createMcpHandler, Server, type AuthInfo, type ServerContext } from '@modelcontextprotocol/server';
import type { HubServices } from '../services.js';
import { callTool } from './call-tool.js';
import { CONTEXT_KEY, type CallContext } from './context.js';
import { MAX_REQUEST_BYTES } from './http.js';
import { INSTRUCTIONS } from './instructions.js';
import { listTools } from './tool-list.js';

export { isModernRequest, MODERN_PROTOCOL_VERSION } from './modern-detect.js';

function contextOf(ctx: ServerContext): CallContext {
  const sonde = ctx.http?.authInfo?.extra?.[CONTEXT_KEY] as CallContext | undefined;
  if (!sonde) throw new Error('request reached the MCP server without authentication');
  return sonde;
}

/**
 * The 2026-07-28 revision, served by the MCP SDK v2 (`@modelcontextprotocol/server`) beside the 2025 path
 * (mcp-server.ts on SDK v1): `server/discover`, the per-request `_meta` envelope, `resultType`, the revision's error
 * codes and HTTP statuses are the SDK's. The hub's tools are the same handlers (listTools, callTool) reading the caller
 * from the request, so both revisions list and call exactly the same tools under the same policy and audit.
 * Strict (`legacy: 'reject'`): the 2025 revisions never reach this handler (plugin.ts routes them).
 */
export function createModernHandler(config: HubServices['config']) {
  // A low-level Server per request (the SDK binds an instance to one exchange); it registers two handlers, no
  // schemas, so building it is cheap next to McpServer's tool registration.
  const factory = () => {
    const server = new Server(
      { name: config.serverName, version: config.hubVersion },
      { capabilities: { tools: { listChanged: false } }, instructions: INSTRUCTIONS },
    );
    server.setRequestHandler('tools/list', (_request, ctx) => ({
      tools: listTools(contextOf(ctx)) as never,
    }));
    server.setRequestHandler('tools/call', (request, ctx) => callTool(contextOf(ctx), request.params.name, request.params.arguments ?? {}));
    return server;
  };
  // 'auto' answers one JSON body: the hub's handlers send no notifications before their result, so nothing upgrades to SSE.
  const handler = createMcpHandler(factory, { legacy: 'reject', responseMode: 'auto', maxRequestBodySize: MAX_REQUEST_BYTES });

  /** One POST, already authenticated: the answer's status, headers and body (JSON text, or empty for 202). */
  async function exchange(
    url: string,
    headers: Record<string, string | string[] | undefined>,
    body: unknown,
    ctx: CallContext,
  ): Promise<{ status: number; headers: Headers; body: string }> {
    const forwarded = new Headers();
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined || name === 'authorization' || name === 'cookie' || name.startsWith(':')) continue;
      forwarded.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const authInfo: AuthInfo = { token: '', clientId: ctx.clientId ?? 'unknown', scopes: [], extra: { [CONTEXT_KEY]: ctx } };
    const response = await handler.fetch(new Request(url, { method: 'POST', headers: forwarded }), { authInfo, parsedBody: body });
    return { status: response.status, headers: response.headers, body: await response.text() };
  }

  return { exchange, close: () => handler.close() };
}

export type ModernHandler = ReturnType<typeof createModernHandler>;
