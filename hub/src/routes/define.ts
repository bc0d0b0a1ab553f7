import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ErrorBodySchema, HubError } from '../errors.js';
import { isScoped } from '../policy/scope.js';
import type { Principal } from '../services.js';

/**
 * Routes are declared once with their zod schemas; the same declaration
 * validates requests and produces `/api/v1/openapi.json`. Fastify's own
 * (ajv) validation is not used, so there is one validator and one error shape.
 */
export type RouteAuth = 'none' | 'admin' | 'enrollment-token' | 'client-cert';

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
}

export interface RouteContext<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  request: FastifyRequest;
  reply: FastifyReply;
  /** Set for `auth: 'admin'` routes. */
  principal: Principal;
}

type AnySpec = RouteSpec<z.ZodType, z.ZodType, z.ZodType>;

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
        route.auth === 'admin'
          ? [{ bearerAuth: [] }, { sessionCookie: [] }]
          : route.auth === 'enrollment-token'
            ? [{ enrollmentToken: [] }]
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
        },
      },
      paths,
    };
  }
}

export type Authenticator = (request: FastifyRequest) => Promise<Principal>;

export function defineRoute<
  B extends z.ZodType = z.ZodUndefined,
  Q extends z.ZodType = z.ZodUndefined,
  P extends z.ZodType = z.ZodUndefined,
>(
  app: FastifyInstance,
  registry: ApiRegistry,
  requireAdmin: Authenticator,
  spec: RouteSpec<B, Q, P>,
  handler: (ctx: RouteContext<z.output<B>, z.output<Q>, z.output<P>>) => unknown,
): void {
  registry.routes.push(spec);
  app.route({
    method: spec.method,
    url: spec.url,
    handler: async (request, reply) => {
      const principal = spec.auth === 'admin' ? await requireAdmin(request) : (undefined as unknown as Principal);
      if (spec.auth === 'admin' && !spec.scoped && isScoped(principal.policy))
        throw new HubError(
          'SONDE_ERR_FORBIDDEN',
          `key "${principal.name}" is limited to some agents or probes; ${spec.method} ${spec.url} acts on the whole hub and needs an unscoped admin key`,
        );
      const body = spec.body ? spec.body.parse(request.body ?? {}) : (undefined as z.output<B>);
      const query = spec.query ? spec.query.parse(request.query ?? {}) : (undefined as z.output<Q>);
      const params = spec.params ? spec.params.parse(request.params ?? {}) : (undefined as z.output<P>);
      const result = await handler({ body, query, params, request, reply, principal });
      if (reply.sent) return reply;
      reply.code(spec.status ?? 200);
      return result ?? null;
    },
  });
}
