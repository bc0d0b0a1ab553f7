import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { createEmbedTokens, EMBED_VIEWS, embedSeesAgent, EmbedTokenRequestSchema } from '../embed/tokens.js';
import { HubError } from '../errors.js';
import type { EventBroker } from '../events/broker.js';
import { openStream } from '../events/stream.js';
import { defineRoute } from './define.js';
import { AgentViewSchema, IdParams } from './schemas.js';
import { DASHBOARD_CSP } from './ui.js';

/**
 * Embedding Sonde widgets in portal pages (SharePoint, Confluence, ServiceNow,
 * plain HTML) without an admin key in the page and without third-party cookies:
 *
 * - `POST /api/v1/embed-tokens` (admin): a short-lived, read-only token scoped to views, agent globs and the page
 *   origins allowed to use it (only origins listed in SONDE_EMBED_ORIGINS). A portal backend mints them the same way
 *   with its own admin key. Every mint is audited (`embed_token.create`).
 * - `/api/v1/embed/agents`, `/agents/:id`, `/probe-calls`, `/events`: the only routes that accept an embed token, each answering
 *   only what the token's scope covers. CORS for the configured origins, never with credentials. Every other route
 *   treats an embed token as an unknown Bearer token (401): no write, no admin read.
 * - `GET /embed/<view>` (iframe mode): one element full page, framable only by the configured origins
 *   (`frame-ancestors`); the token arrives by `postMessage` from an allowed origin (`/ui/embed.js`), never in the URL.
 */
export interface EmbedRouteOptions {
  broker: EventBroker;
}

const FRAME_VIEWS = ['fleet', 'health-badge', 'agent', 'trends'] as const;
/** What `/embed/agent?agent=…` may name (an agent name or id); anything else is refused before a page is served. */
const FRAME_AGENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

const isoDate = z.iso.datetime({ offset: true }).or(z.iso.date());
const ProbeCallsQuery = z
  .object({
    agent: z.string().max(200).optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    before: z.coerce.number().int().min(1).optional().describe('Page cursor: entries older than this seq (newest first)'),
  })
  .strict();
/** A probe call as an embed token sees it: when, which probe on which agents, how it went; never who, with what or why. */
const ProbeCallSchema = z.object({
  seq: z.number(),
  at: z.string(),
  action: z.string(),
  probe: z.string(),
  agents: z.array(z.string()),
  status: z.string(),
  durationMs: z.number().optional(),
});
const PROBE_ACTIONS = new Set(['rest.probe', 'mcp.tool_call']);

const EmbedTokenResponse = z.object({
  token: z.string().describe('The embed token (sonde_embed_…); give it to the page, never an API key'),
  id: z.string(),
  expiresAt: z.string(),
  views: z.array(z.enum(EMBED_VIEWS)),
  agents: z.array(z.string()),
  origins: z.array(z.string()),
});

export const embedRoutes: FastifyPluginAsync<EmbedRouteOptions> = async (app, { broker }) => {
  const { core, sonde } = app;
  const allowed = new Set(app.hubConfig.embedOrigins);
  const tokens = createEmbedTokens(core.crypto.mcpSessionKey);

  /** CORS for an allowed page origin: reads with a Bearer token only (no cookies, so no credentials flag). */
  const corsHeaders = (request: FastifyRequest): Record<string, string> => {
    const origin = request.headers.origin;
    return origin && allowed.has(origin) ? { 'access-control-allow-origin': origin, vary: 'Origin' } : { vary: 'Origin' };
  };

  app.addHook('onRequest', (request, reply, done) => {
    if (request.url.startsWith('/api/v1/embed/')) reply.headers(corsHeaders(request));
    done();
  });
  // The CORS preflight carries no credential by design (browsers never send one with it).
  app.options('/api/v1/embed/*', { config: { auth: 'none' } }, (request, reply) => {
    const origin = request.headers.origin;
    if (!origin || !allowed.has(origin)) return reply.code(403).send();
    return reply
      .code(204)
      .header('access-control-allow-methods', 'GET')
      .header('access-control-allow-headers', 'authorization, accept, last-event-id')
      .header('access-control-max-age', '600')
      .send();
  });

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/embed-tokens',
      summary: 'Mints a read-only embed token (views, agent globs, allowed page origins, lifetime ≤ 24 h) for a portal page',
      tag: 'embed',
      auth: 'admin',
      body: EmbedTokenRequestSchema,
      response: EmbedTokenResponse,
      status: 201,
    },
    async ({ body, principal }) => {
      const foreign = body.origins.filter((origin) => !allowed.has(origin));
      if (foreign.length > 0)
        throw new HubError(
          'SONDE_ERR_VALIDATION',
          allowed.size === 0
            ? 'Embedding is off: list the portal origins in SONDE_EMBED_ORIGINS first.'
            : `Not in SONDE_EMBED_ORIGINS: ${foreign.join(', ')}.`,
        );
      const { token, claims } = tokens.mint(body, principal.name);
      await core.audit.append({
        action: 'embed_token.create',
        actor: { kind: principal.kind, id: principal.id, name: principal.name },
        status: 'ok',
        params: { id: claims.id, views: claims.views, agents: claims.agents, origins: claims.origins, ttlSeconds: body.ttlSeconds },
      });
      return {
        token,
        id: claims.id,
        expiresAt: new Date(claims.exp * 1000).toISOString(),
        views: claims.views,
        agents: claims.agents,
        origins: claims.origins,
      };
    },
  );

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/embed/agents',
      summary: 'The agents an embed token may read (fleet and health-badge views)',
      tag: 'embed',
      auth: 'embed-token',
      embedViews: ['fleet', 'health-badge'],
      response: z.array(AgentViewSchema),
    },
    ({ embed: claims }) => {
      return sonde.fleet.list().filter((agent) => embedSeesAgent(claims, agent.name));
    },
  );

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/embed/agents/:id',
      summary: 'One agent an embed token may read (by id or name); any other is not found',
      tag: 'embed',
      auth: 'embed-token',
      embedViews: ['fleet', 'agent'],
      params: IdParams,
      response: AgentViewSchema,
    },
    ({ params, embed: claims }) => {
      const agent = sonde.fleet.get(params.id);
      // Out of scope and absent look the same: a token does not even learn that an agent exists.
      if (!agent || !embedSeesAgent(claims, agent.name)) throw new HubError('SONDE_ERR_AGENT_NOT_FOUND');
      return agent;
    },
  );

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/embed/probe-calls',
      summary:
        'Probe calls on the agents an embed token may read, newest first (trends and agent views): time, probe, agents, status and duration only (no caller, parameters or details)',
      tag: 'embed',
      auth: 'embed-token',
      embedViews: ['trends', 'agent'],
      query: ProbeCallsQuery,
      response: z.object({ entries: z.array(ProbeCallSchema), nextBefore: z.number().nullable() }),
    },
    async ({ query, embed: claims }) => {
      const to = query.to && query.to.length === 10 ? `${query.to}T23:59:59.999Z` : query.to;
      const page = await core.store.audit.query({
        agent: query.agent,
        from: query.from,
        to,
        beforeSeq: query.before,
        order: 'desc',
        limit: query.limit,
      });
      // A call counts only when every agent it names is in the token's scope; the cursor still moves past all read.
      const entries = page.flatMap((entry) =>
        PROBE_ACTIONS.has(entry.action) &&
        entry.probe &&
        entry.agents &&
        entry.agents.length > 0 &&
        entry.agents.every((name) => embedSeesAgent(claims, name))
          ? [
              {
                seq: entry.seq,
                at: entry.at,
                action: entry.action,
                probe: entry.probe,
                agents: entry.agents,
                status: entry.status,
                ...(typeof entry.durationMs === 'number' ? { durationMs: entry.durationMs } : {}),
              },
            ]
          : [],
      );
      const last = page[page.length - 1];
      return { entries, nextBefore: page.length === query.limit && last ? last.seq : null };
    },
  );

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/embed/events',
      summary: 'The event stream for an embed token: its agents only, no audit entries (text/event-stream)',
      tag: 'embed',
      auth: 'embed-token',
      embedViews: ['fleet', 'health-badge', 'agent', 'trends'],
    },
    async ({ request, reply, embed: claims }) => {
      const lastEventId = typeof request.headers['last-event-id'] === 'string' ? request.headers['last-event-id'] : undefined;
      await openStream(
        request,
        reply,
        broker,
        { all: false, agent: (name) => embedSeesAgent(claims, name), audit: false },
        lastEventId,
        // The stream ends when the token expires; the page refreshes it and reconnects.
        () => Promise.resolve(claims.exp * 1000 > Date.now()),
        corsHeaders(request),
      );
    },
  );

  // Iframe mode.
  app.get('/embed/:view', (request, reply) => {
    const view = (request.params as { view: string }).view;
    if (allowed.size === 0 || !(FRAME_VIEWS as readonly string[]).includes(view))
      return reply
        .code(404)
        .type('text/plain')
        .send(allowed.size === 0 ? 'Embedding is off (SONDE_EMBED_ORIGINS).' : 'No such view.');
    // The agent page names its agent in the URL (not a secret: the token, sent by postMessage, decides what it may read).
    const agent = (request.query as { agent?: unknown }).agent;
    if (view === 'agent' && (typeof agent !== 'string' || !FRAME_AGENT.test(agent)))
      return reply.code(400).type('text/plain').send('Name the agent: /embed/agent?agent=<name or id>.');
    return framePage(reply, view, [...allowed]);
  });
  await Promise.resolve();
};

/** The dashboard's CSP, framable by the configured origins only. */
export function embedCsp(origins: string[]): string {
  return DASHBOARD_CSP.replace("frame-ancestors 'none'", `frame-ancestors ${origins.join(' ')}`);
}

function framePage(reply: FastifyReply, view: string, origins: string[]): FastifyReply {
  // Attribute values are origins validated at start-up and a view from a fixed list: nothing to escape beyond quotes.
  const html = `<!doctype html>
<html lang="en" data-sonde-view="${view}" data-sonde-origins="${origins.join(' ')}">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="color-scheme" content="light dark" />
    <title>Sonde ${view}</title>
    <link rel="stylesheet" href="/ui/page.css" />
    <script type="module" src="/ui/sonde.js"></script>
    <script type="module" src="/ui/embed.js"></script>
  </head>
  <body></body>
</html>
`;
  return reply
    .header('content-security-policy', embedCsp(origins))
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache')
    .type('text/html; charset=utf-8')
    .send(html);
}
