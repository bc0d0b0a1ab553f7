import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { RouteAuth } from '../auth/route-auth.js';
import type { EmbedView } from '../embed/authenticate.js';
import type { EmbedClaims } from '../embed/tokens.js';
import { ErrorBodySchema } from '../errors.js';
import type { Principal } from '../services.js';

export type { RouteAuth } from '../auth/route-auth.js';

/**
 * Routes are declared once with their zod schemas; the same declaration
 * validates requests and produces `/api/v1/openapi.json`. Fastify's own
 * (ajv) validation is not used, so there is one validator and one error shape.
 * The declared `auth` is enforced by the auth plugin as the route's first
 * `onRequest` hook (auth/route-auth.ts), before the body is read.
 */

export interface RouteSpec<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Fastify path, e.g. `/api/v1/agents/:id`. */
  url: string;
  summary: string;
  tag: string;
  auth: RouteAuth;
  body?: B;
  query?: Q;
  params?: P;
  response?: z.ZodType;
  status?: number;
  /**
   * The handler bounds what it does to the caller's key scope (agents, probes),
   * so a scoped admin key may call it. Routes without it refuse a scoped key:
   * a new admin route is hub-wide until someone makes it scope-aware.
   */
  scoped?: boolean;
  /** With `auth: 'embed-token'`: the views the route serves; a token must open one of them. */
  embedViews?: readonly EmbedView[];
  /** With `auth: 'key-or-session'`: the 401's message to a caller who presents neither (the code's default otherwise). */
  unauthenticatedMessage?: string;
}

export interface RouteContext<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  request: FastifyRequest;
  reply: FastifyReply;
  /** The caller of an `admin`, `session` or `key-or-session` route (`request.principal`, set by its onRequest hook). */
  principal: Principal;
  /** The caller's embed token claims on an `auth: 'embed-token'` route (`request.embedClaims`, set by its onRequest hook). */
  embed: EmbedClaims;
}

type AnySpec = RouteSpec<z.ZodType, z.ZodType, z.ZodType>;

/** Every route declared with defineRoute, for the OpenAPI document (decorated as `app.api` by the `sonde-api` plugin). */
export class ApiRegistry {
  readonly routes: AnySpec[] = [];

  document(info: { version: string; serverUrl?: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    const schema = (s: z.ZodType, io: 'input' | 'output'): unknown =>
      z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'openapi-3.0' });
    for (const route of this.routes) {
      const path = route.url.replace(/:([A-Za-z_]+)/g, '{$1}');
      const parameters: unknown[] = [];
      for (const [where, s] of [
        ['path', route.params],
        ['query', route.query],
      ] as const) {
        if (!s) continue;
        const json = schema(s, 'input') as { properties?: Record<string, unknown>; required?: string[] };
        for (const [name, prop] of Object.entries(json.properties ?? {})) {
          parameters.push({ name, in: where, required: where === 'path' || (json.required ?? []).includes(name), schema: prop });
        }
      }
      const status = String(route.status ?? 200);
      const security =
        route.auth === 'admin' || route.auth === 'key-or-session'
          ? [{ bearerAuth: [] }, { sessionCookie: [] }]
          : route.auth === 'enrollment-token'
            ? [{ enrollmentToken: [] }]
            : route.auth === 'embed-token'
              ? [{ embedToken: [] }]
              : [];
      paths[path] ??= {};
      paths[path][route.method.toLowerCase()] = {
        summary: route.summary,
        tags: [route.tag],
        operationId: `${route.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
        ...(parameters.length ? { parameters } : {}),
        ...(route.body
          ? { requestBody: { required: true, content: { 'application/json': { schema: schema(route.body, 'input') } } } }
          : {}),
        security,
        responses: {
          [status]: {
            description: 'Success',
            ...(route.response ? { content: { 'application/json': { schema: schema(route.response, 'output') } } } : {}),
          },
          default: { description: 'Error', content: { 'application/json': { schema: schema(ErrorBodySchema, 'output') } } },
        },
      };
    }
    return {
      openapi: '3.0.3',
      info: { title: 'Sonde hub REST API', version: info.version },
      ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'Admin API key (sonde_…)' },
          sessionCookie: { type: 'apiKey', in: 'cookie', name: 'sonde_session' },
          enrollmentToken: { type: 'http', scheme: 'bearer', description: 'Single-use enrollment token' },
          embedToken: { type: 'http', scheme: 'bearer', description: 'Read-only embed token (sonde_embed_…) for the /api/v1/embed routes' },
        },
      },
      paths,
    };
  }
}

/**
 * Declares a REST route: registered in `app.api` (the OpenAPI document) and on `app` with its authentication
 * declared in the route config, which the auth plugin turns into the route's first `onRequest` hook.
 */
export function defineRoute<
  B extends z.ZodType = z.ZodUndefined,
  Q extends z.ZodType = z.ZodUndefined,
  P extends z.ZodType = z.ZodUndefined,
>(app: FastifyInstance, spec: RouteSpec<B, Q, P>, handler: (ctx: RouteContext<z.output<B>, z.output<Q>, z.output<P>>) => unknown): void {
  // The auth plugin enforces what `auth` declares; a route defined where it is not registered would go unguarded.
  if (!app.hasRequestDecorator('principal'))
    throw new Error(`${spec.method} ${spec.url}: defineRoute needs the sonde-auth plugin registered first (plugins/auth.ts)`);
  app.api.routes.push(spec);
  app.route({
    method: spec.method,
    url: spec.url,
    config: {
      auth: spec.auth,
      scoped: spec.scoped === true,
      ...(spec.embedViews ? { embedViews: spec.embedViews } : {}),
      ...(spec.unauthenticatedMessage ? { unauthenticatedMessage: spec.unauthenticatedMessage } : {}),
    },
    handler: async (request, reply) => {
      const body = spec.body ? spec.body.parse(request.body ?? {}) : (undefined as z.output<B>);
      const query = spec.query ? spec.query.parse(request.query ?? {}) : (undefined as z.output<Q>);
      const params = spec.params ? spec.params.parse(request.params ?? {}) : (undefined as z.output<P>);
      // Null only on routes that authenticate no principal (not 'admin', 'session' or 'key-or-session'), which do not read it.
      const principal = request.principal as Principal;
      // Likewise null except on `embed-token` routes, whose hook set it before anything else ran.
      const embed = request.embedClaims as EmbedClaims;
      const result = await handler({ body, query, params, request, reply, principal, embed });
      if (reply.sent) return reply;
      reply.code(spec.status ?? 200);
      return result ?? null;
    },
  });
}
