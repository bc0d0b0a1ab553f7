import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HubError } from '../errors.js';
import { EventBroker, type StreamScope } from '../events/broker.js';
import { defineRoute } from './define.js';
import { embedRoutes } from './embed.js';

/**
 * `GET /api/v1/events`: the live stream the dashboard's elements follow
 * instead of polling. Server-Sent Events rather than a WebSocket: the
 * traffic is one way, it is a plain GET authorised exactly like the REST
 * reads it mirrors (Bearer key or session cookie, so no second auth path),
 * it passes proxies that only speak HTTP, and resuming is built into the
 * format (`Last-Event-ID`). The elements read it with `fetch` rather than
 * `EventSource`, which cannot send an Authorization header.
 *
 * Events: `snapshot` (`{agents, auditSeq}`), `agent` (`{agent}`, one agent's
 * new view), `agent-removed` (`{id, name}`), `audit` (`{entry}`); each with id
 * `<epoch>.<seq>`. Comment lines keep the connection alive every 15 s, when
 * the caller's credentials are checked again.
 */

/** Bytes a subscriber may have unread before it is dropped (it reconnects and resumes or gets a snapshot). */
const MAX_BUFFERED = 1024 * 1024;
/** Streams one hub serves at once; more get 503 (each is a held-open connection). */
export const MAX_STREAMS = 1000;

export interface EventRouteOptions {
  /** Test seam: a broker with other timings. */
  broker?: EventBroker;
}

const EventsQuery = z
  .object({
    lastEventId: z.string().max(64).optional().describe('Resume after this event id (same as the Last-Event-ID header)'),
  })
  .strict();

export const ADMIN_SCOPE: StreamScope = { all: true, agent: () => true, audit: true };

export const eventRoutes: FastifyPluginAsync<EventRouteOptions> = async (app, options) => {
  const { hub } = app;
  const broker =
    options.broker ??
    new EventBroker({
      fleet: hub.services.fleet,
      audit: hub.core.store.audit,
      onError: (error) => app.log.warn({ err: error }, 'event stream: reading changes failed'),
    });
  // The embed routes share this broker (their stream is the same one, scoped to an embed token).
  await app.register(embedRoutes, { broker });
  // Held-open responses would keep close() waiting: end them first.
  app.addHook('preClose', (done) => {
    broker.close();
    done();
  });

  defineRoute(
    app,
    hub.api,
    hub.requireAdmin,
    {
      method: 'GET',
      url: '/api/v1/events',
      summary:
        'Live events (text/event-stream): a fleet snapshot, then agent, agent-removed and audit events with ids to resume from (Last-Event-ID)',
      tag: 'events',
      auth: 'admin',
      query: EventsQuery,
    },
    async ({ request, reply, query }) => {
      const lastEventId = headerOf(request, 'last-event-id') ?? query.lastEventId;
      await openStream(request, reply, broker, ADMIN_SCOPE, lastEventId, async () => {
        try {
          await hub.requireAdmin(request);
          return true;
        } catch {
          return false;
        }
      });
    },
  );
  await Promise.resolve();
};

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

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
