import type { FastifyInstance, RouteOptions } from 'fastify';

/**
 * Which GET routes also answer HEAD. Fastify would give every GET route a HEAD twin (`exposeHeadRoutes`): a second
 * router entry and handler context per route, compiled at start for requests nobody sends. The hub turns that off
 * (app.ts) and answers HEAD only where a caller other than our own clients sends it:
 * - load balancers and uptime checkers: `/api/v1/health`, `/api/v1/ready`, `/metrics`;
 * - browsers and caching proxies: the dashboard's files (`/`, `/ui/*`) and the embeddable pages (`/embed/:view`);
 * - discovery clients: the `/.well-known/` documents (OAuth metadata).
 * Every other route under `/api/` is a client's call with its own reads: a HEAD there gets the hub's 404
 * (`SONDE_ERR_NOT_FOUND`) without running the route or its authentication. Single sign-on redirects, OAuth
 * interactions and `/mcp` start or refuse flows on GET; a HEAD must not start one.
 */
const HEAD_EXACT = new Set(['/api/v1/health', '/api/v1/ready', '/metrics', '/']);
const HEAD_PREFIXES = ['/ui/', '/embed/', '/.well-known/'];

/** True when the GET route at this (full) URL also answers HEAD. */
export function answersHead(url: string): boolean {
  return HEAD_EXACT.has(url) || HEAD_PREFIXES.some((prefix) => url.startsWith(prefix));
}

/**
 * Installs the policy on the root before any route exists: a GET route that answers HEAD is registered for both
 * methods, one router entry whose HEAD runs the GET handler. Fastify sends the GET's status and headers (its
 * `content-length` too) and Node's HTTP server drops the body of a HEAD response.
 */
export function installHeadRoutes(app: FastifyInstance): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    if (route.method === 'GET' && answersHead(route.url)) route.method = ['GET', 'HEAD'];
  });
}
