import type { FastifyReply, FastifyRequest } from 'fastify';
import type { McpErrorCode } from './errors.js';

/** Largest JSON-RPC POST body accepted (a tools/call with params is a few KiB). */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** JSON-RPC error codes used at the HTTP layer (the SDK uses -32000/-32001 for transport errors). */
const JSONRPC = { parse: -32700, invalidRequest: -32600, server: -32000, unauthorized: -32001 } as const;

export function requestIdOf(body: unknown): string | number | null {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const id = (body as { id?: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number') return id;
  }
  return null;
}

export function sendJsonRpcError(
  reply: FastifyReply,
  status: number,
  code: McpErrorCode | 'SONDE_ERR_REQUEST_TOO_LARGE' | 'SONDE_ERR_BAD_REQUEST' | 'SONDE_ERR_METHOD_NOT_ALLOWED',
  message: string,
  id: string | number | null = null,
): FastifyReply {
  const rpcCode =
    status === 401 || status === 403
      ? JSONRPC.unauthorized
      : status === 400 && code === 'SONDE_ERR_BAD_REQUEST'
        ? JSONRPC.parse
        : status >= 500
          ? JSONRPC.server
          : JSONRPC.invalidRequest;
  return reply
    .code(status)
    .header('content-type', 'application/json')
    .send({ jsonrpc: '2.0', error: { code: rpcCode, message, data: { code } }, id });
}

/** The raw Bearer credential, or undefined. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** 401; `challenge` (hub/src/oauth) names the Protected Resource Metadata so an MCP client can start OAuth. */
export function sendUnauthorized(reply: FastifyReply, message: string, challenge?: string): FastifyReply {
  reply.header('www-authenticate', challenge ?? 'Bearer realm="sonde", error="invalid_token"');
  return sendJsonRpcError(reply, 401, 'SONDE_ERR_UNAUTHORIZED', message);
}

/** A header's single value (the first, when a client repeats it). */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
