import type { FastifyReply, FastifyRequest } from 'fastify';
import { HubError } from '../errors.js';
import type { EventBroker, StreamScope } from './broker.js';

// The Server-Sent Events response both event routes serve (routes/events.ts: admins; routes/embed.ts: embed tokens).

/** Bytes a subscriber may have unread before it is dropped (it reconnects and resumes or gets a snapshot). */
const MAX_BUFFERED = 1024 * 1024;
/** Streams one hub serves at once; more get 503 (each is a held-open connection). */
export const MAX_STREAMS = 1000;

/**
 * Takes the response over from Fastify and subscribes it. `extraHeaders` carries what a hijacked reply would
 * otherwise miss (CORS for embed origins).
 */
export async function openStream(
  request: FastifyRequest,
  reply: FastifyReply,
  broker: EventBroker,
  scope: StreamScope,
  lastEventId: string | undefined,
  recheck: () => Promise<boolean>,
  extraHeaders: Record<string, string> = {},
): Promise<void> {
  if (broker.size >= MAX_STREAMS) {
    reply.header('retry-after', '10');
    throw new HubError('SONDE_ERR_NOT_READY', `This hub already serves ${MAX_STREAMS} event streams; try again shortly.`);
  }
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
    'x-content-type-options': 'nosniff',
    ...extraHeaders,
  });
  // Fastify answers HEAD through the GET handler: a HEAD gets the headers and an end, never a stream that is held
  // open with no body to wait for (a health checker or proxy probing the route would hang until it times out).
  if (request.method === 'HEAD') {
    raw.end();
    return;
  }
  // Reconnect after 2 s; the client adds its own backoff.
  raw.write('retry: 2000\n\n');
  // Set once subscribed; the client may leave before that.
  const held: { closed: boolean; unsubscribe?: () => void } = { closed: false };
  const end = (): void => {
    if (held.closed) return;
    held.closed = true;
    held.unsubscribe?.();
    raw.end();
  };
  const subscriber = {
    scope,
    write(chunk: string): void {
      if (held.closed) return;
      // A client that stopped reading is dropped rather than buffered without bound.
      if (raw.writableLength > MAX_BUFFERED) {
        request.log.info('event stream: client too slow, dropped');
        end();
        return;
      }
      raw.write(chunk);
    },
    close: end,
    recheck,
  };
  request.raw.on('close', end);
  held.unsubscribe = await broker.subscribe(subscriber, lastEventId);
  if (held.closed) held.unsubscribe();
}
