import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { CallToolRequestSchema, ListToolsRequestSchema, McpError, ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { HubServices } from '../services.js';
import { callTool } from './call-tool.js';
import { eitherSignal } from './cancellation.js';
import { INSTRUCTIONS } from './instructions.js';
import { CONTEXT_KEY, type CallContext } from './context.js';
import { listTools } from './tool-list.js';

export { CONTEXT_KEY };

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

function contextOf(extra: Extra): CallContext {
  const ctx = extra.authInfo?.extra?.[CONTEXT_KEY] as CallContext | undefined;
  if (!ctx) throw new McpError(ErrorCode.InternalError, 'request reached the MCP server without authentication');
  return ctx;
}

/**
 * Runs one tools/call with a context aborted by the POST closing (the shared context's signal) or by a cancellation
 * naming this call; the listeners joining the two go when the call ends.
 */
async function callWithCancellation(ctx: CallContext, cancelled: AbortSignal, name: string, args: Record<string, unknown>) {
  const { signal, release } = ctx.signal ? eitherSignal(ctx.signal, cancelled) : { signal: cancelled, release: undefined };
  // A view of the shared context (its lazy catalog getter stays shared), with a signal of this call's own.
  const own = Object.create(ctx, { signal: { value: signal, enumerable: true } }) as CallContext;
  try {
    return await callTool(own, name, args);
  } finally {
    release?.();
  }
}

/**
 * A low-level MCP server whose handlers read everything caller-specific from
 * the request, so one instance can serve any key and endpoint and be pooled.
 * Tools are computed per request (filtered by policy) rather than registered,
 * which McpServer would require.
 */
export function createMcpServer(config: HubServices['config']): Server {
  const server = new Server(
    { name: config.serverName, version: config.hubVersion },
    // Clients ignore tools/list_changed, so the hub never promises it: new agents and packs show up through list_capabilities.
    { capabilities: { tools: { listChanged: false } }, instructions: INSTRUCTIONS },
  );
  server.setRequestHandler(ListToolsRequestSchema, (_request, extra) => ({ tools: listTools(contextOf(extra)) }));
  server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
    callWithCancellation(contextOf(extra), extra.signal, request.params.name, request.params.arguments ?? {}),
  );
  return server;
}
