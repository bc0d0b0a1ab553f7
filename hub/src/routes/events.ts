import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { EventBroker, type StreamScope } from '../events/broker.js';
import { openStream } from '../events/stream.js';
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
 * Events: `snapshot` (`{agents, auditSeq, integrations}`), `agent` (`{agent}`,
 * one agent's new view), `agent-removed` (`{id, name}`), `audit` (`{entry}`),
 * `integration` (`{pack}`, an integration pack's new view: installed, pending,
 * approved, active) and `integration-removed` (`{name}`); each with id
 * `<epoch>.<seq>`. Comment lines keep the connection alive every 15 s, when
 * the caller's credentials are checked again.
 */

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
  const broker =
    options.broker ??
    new EventBroker({
      fleet: app.sonde.fleet,
      audit: app.core.store.audit,
      integrations: () => app.integrations.list(),
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
    {
      method: 'GET',
      url: '/api/v1/events',
      summary:
        'Live events (text/event-stream): a snapshot (fleet and integration packs), then agent, agent-removed, audit, integration and integration-removed events with ids to resume from (Last-Event-ID)',
      tag: 'events',
      auth: 'admin',
      query: EventsQuery,
    },
    async ({ request, reply, query }) => {
      const lastEventId = headerOf(request, 'last-event-id') ?? query.lastEventId;
      await openStream(request, reply, broker, ADMIN_SCOPE, lastEventId, async () => {
        try {
          await app.auth.requireAdmin(request);
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
