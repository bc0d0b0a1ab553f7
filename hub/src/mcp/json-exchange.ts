import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { MAX_BATCH_SIZE } from '@modelcontextprotocol/sdk/server/requestBody.js';
import {
  isInitializeRequest,
  JSONRPCMessageSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
  type JSONRPCErrorResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type JSONRPCResultResponse,
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

/*
 * The SDK's `isJSONRPCRequest` and friends are whole zod parses (4-23 µs each, most when they fail). Once readMessages
 * has parsed a message with JSONRPCMessageSchema (a union of four strict objects), its keys say what it is: only a
 * request has both `method` and `id`, only a notification `method` alone, only responses `result` or `error`. The
 * server's own messages (send) are responses or, never to be answered here, requests and notifications.
 */
const isRequest = (message: JSONRPCMessage): message is JSONRPCRequest => 'method' in message && 'id' in message;
const isResponse = (message: JSONRPCMessage): message is JSONRPCResultResponse | JSONRPCErrorResponse =>
  'result' in message || 'error' in message;

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
  // isInitializeRequest is a full zod parse that fails slowly for every other request: ask the method first.
  if (messages.some((m) => 'method' in m && m.method === 'initialize' && isInitializeRequest(m))) {
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

interface PendingPost {
  /** Responses by the request's position in the POST; undefined until answered. */
  readonly responses: (JSONRPCMessage | undefined)[];
  remaining: number;
  readonly settle: (reply: ExchangeReply) => void;
}

interface InFlight {
  readonly post: PendingPost;
  readonly index: number;
  readonly clientId: RequestId;
}

/**
 * The transport between the hub's one MCP server and every stateless POST.
 * Each request is handed to the server under an id of its own, so requests
 * from many clients (all numbering theirs from 1) run side by side on one
 * connected server, and each response goes back to its POST with the
 * client's id restored. This replaced a pool of servers connected to the
 * SDK's web-standard transport per request, which built a Web Request,
 * Response, URL and header map per call and, on every close, an error and
 * an abort (together about a sixth of the hub's CPU per tool call); the wire
 * behaviour is the same. Server-initiated messages are dropped, as the SDK's
 * JSON mode drops them: a stateless POST has no stream to carry them.
 */
export class StatelessMux implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

  private readonly inFlight = new Map<number, InFlight>();
  private nextId = 1;

  start(): Promise<void> {
    return Promise.resolve();
  }

  /** Delivers one POST's messages; resolves with its HTTP reply (202 when they hold no request). */
  exchange(messages: JSONRPCMessage[], extra: MessageExtraInfo): Promise<ExchangeReply> {
    const requestCount = messages.filter(isRequest).length;
    if (requestCount === 0) {
      for (const message of messages) this.deliver(message, new Map(), extra);
      return Promise.resolve({ status: 202 });
    }
    return new Promise((settle) => {
      const post: PendingPost = { responses: new Array<undefined>(requestCount).fill(undefined), remaining: requestCount, settle };
      const ids = new Map<RequestId, number>();
      let index = 0;
      const renamed = messages.map((message) => {
        if (!isRequest(message)) return message;
        const id = this.nextId++;
        this.inFlight.set(id, { post, index: index++, clientId: message.id });
        ids.set(message.id, id);
        return { ...message, id };
      });
      for (const message of renamed) this.deliver(message, ids, extra);
    });
  }

  /** Hands a message to the server; a cancellation may only name a request of its own POST. */
  private deliver(message: JSONRPCMessage, ids: Map<RequestId, number>, extra: MessageExtraInfo): void {
    if ('method' in message && message.method === 'notifications/cancelled' && !('id' in message)) {
      const named = (message.params as { requestId?: RequestId } | undefined)?.requestId;
      const id = named === undefined ? undefined : ids.get(named);
      if (id === undefined) return;
      message = { ...message, params: { ...message.params, requestId: id } };
    }
    this.onmessage?.(message, extra);
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (!isResponse(message)) return Promise.resolve();
    const flight = typeof message.id === 'number' ? this.inFlight.get(message.id) : undefined;
    if (!flight) return Promise.reject(new Error(`No connection established for request ID: ${String(message.id)}`));
    this.inFlight.delete(message.id as number);
    const { post } = flight;
    post.responses[flight.index] = { ...message, id: flight.clientId };
    if (--post.remaining === 0) post.settle({ status: 200, body: post.responses.length === 1 ? post.responses[0] : post.responses });
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.onclose?.();
    return Promise.resolve();
  }
}
