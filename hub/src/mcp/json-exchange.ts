import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { MAX_BATCH_SIZE } from '@modelcontextprotocol/sdk/server/requestBody.js';
import {
  isInitializeRequest,
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  JSONRPCMessageSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
  type JSONRPCMessage,
  type MessageExtraInfo,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';

/** What one POST answers: a JSON-RPC body (or none, 202) and its HTTP status. */
export interface ExchangeReply {
  status: number;
  body?: unknown;
}

function rpcError(status: number, code: number, message: string): ExchangeReply {
  return { status, body: { jsonrpc: '2.0', error: { code, message }, id: null } };
}

/**
 * Checks one POST body the way the SDK's Streamable HTTP transport does (same
 * statuses, codes and messages), without building a Web Request and Response.
 */
export function readMessages(
  body: unknown,
  protocolVersion: string | undefined,
): { messages: JSONRPCMessage[] } | { reply: ExchangeReply } {
  if (Array.isArray(body) && body.length > MAX_BATCH_SIZE) {
    return { reply: rpcError(400, -32600, `Invalid Request: Batch must not exceed ${MAX_BATCH_SIZE} messages`) };
  }
  const parsed = (Array.isArray(body) ? body : [body]).map((m) => JSONRPCMessageSchema.safeParse(m));
  if (parsed.some((p) => !p.success)) {
    return { reply: rpcError(400, -32700, 'Parse error: Invalid JSON-RPC message') };
  }
  const messages = parsed.map((p) => p.data as JSONRPCMessage);
  if (messages.some(isInitializeRequest)) {
    if (messages.length > 1) return { reply: rpcError(400, -32600, 'Invalid Request: Only one initialization request is allowed') };
  } else if (protocolVersion !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(protocolVersion)) {
    return {
      reply: rpcError(
        400,
        -32000,
        `Bad Request: Unsupported protocol version: ${protocolVersion} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
      ),
    };
  }
  return { messages };
}

/**
 * A transport for one stateless POST answered with JSON: the messages go to
 * the connected server, and the reply resolves once every request in them has
 * its response. Replaces the SDK's web-standard transport on the hot path,
 * which built a Web Request, a Response, a URL and a header map per call (about
 * an eighth of the hub's CPU per tool call); the wire behaviour is the same.
 * Server-initiated messages are dropped, as the SDK's JSON mode drops them:
 * a stateless POST has no stream to carry them.
 */
export class JsonExchange implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

  private readonly responses = new Map<RequestId, JSONRPCMessage | undefined>();
  private settle?: (reply: ExchangeReply) => void;
  private closed = false;

  start(): Promise<void> {
    return Promise.resolve();
  }

  /** Delivers the messages; resolves with the HTTP reply (202 when they hold no request). */
  exchange(messages: JSONRPCMessage[], extra: MessageExtraInfo): Promise<ExchangeReply> {
    const requests = messages.filter(isJSONRPCRequest);
    if (requests.length === 0) {
      for (const message of messages) this.onmessage?.(message, extra);
      return Promise.resolve({ status: 202 });
    }
    return new Promise((resolve) => {
      this.settle = resolve;
      for (const request of requests) this.responses.set(request.id, undefined);
      for (const message of messages) this.onmessage?.(message, extra);
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (!(isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message))) return Promise.resolve();
    const id = message.id;
    if (this.closed || id === undefined || !this.responses.has(id)) {
      return Promise.reject(new Error(`No connection established for request ID: ${String(id)}`));
    }
    this.responses.set(id, message);
    const all = [...this.responses.values()];
    if (all.every((m) => m !== undefined)) this.settle?.({ status: 200, body: all.length === 1 ? all[0] : all });
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.onclose?.();
    return Promise.resolve();
  }
}
