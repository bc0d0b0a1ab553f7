import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler, RouteOptions } from 'fastify';
import type { EmbedView } from '../embed/authenticate.js';
import type { EmbedClaims } from '../embed/tokens.js';
import { HubError } from '../errors.js';
import { isScoped } from '../policy/scope.js';
import type { Principal } from '../services.js';
import type { AgentRecord } from '../store/types.js';
import { bearerOf } from './require-admin.js';

/**
 * Authentication as route-level `onRequest` hooks. A REST route declares how its caller authenticates
 * (`config.auth`, which `defineRoute` sets from its spec); the auth plugin attaches the matching hook to the route
 * when it is registered (Fastify's `onRoute`), so it runs before the body is parsed or validated and before any
 * handler, and a handler cannot forget it. A route under `/api/` that declares nothing, or something unknown, is
 * refused when it is registered: the hub does not start with it.
 *
 * - `none`: public (health, readiness, login, logout, the sign-in providers, the OpenAPI document): no credential is
 *   asked for.
 * - `admin`: an admin API key or an admin session (`adminGuard`); the principal is set on `request.principal`. A
 *   scoped key (limited to some agents or probes) is refused unless the route declares `scoped: true`, meaning its
 *   handler bounds what it does to the key's scope.
 * - `session`: a signed-in user's session cookie, never an API key (what users do for themselves: their own keys);
 *   the user is `request.principal`.
 * - `key-or-session`: any user API key (admin or member, scoped or not) or a session (`principalOf`), set on
 *   `request.principal`; neither is a 401 with the route's `config.unauthenticatedMessage` (else the code's default).
 *   What each caller may do is the handler's to decide (`auth/me` answers who it is; the OAuth consents show a user
 *   their own and an unscoped admin key everyone's).
 * - `enrollment-token`: a Bearer enrollment token must be presented; it is checked and consumed with the enrollment
 *   itself (enrollment/index.ts `enroll`), in one transaction with what it creates.
 * - `client-cert`: the agent's current client certificate over mTLS; the agent is set on `request.certifiedAgent`.
 * - `embed-token`: a portal page's embed token (embed/authenticate.ts) opening one of the route's `config.embedViews`
 *   from an allowed page origin; its claims are set on `request.embedClaims`. A route that declares it without the
 *   views it serves is refused when it is registered.
 */
export const ROUTE_AUTH = ['none', 'admin', 'session', 'key-or-session', 'enrollment-token', 'client-cert', 'embed-token'] as const;
export type RouteAuth = (typeof ROUTE_AUTH)[number];

/** The agent a `client-cert` route's caller proved to be: its record as the certificate check read it. */
export type CertifiedAgent = AgentRecord;

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking, set by an `admin`, `session` or `key-or-session` route's hook before anything else of it runs; else null. */
    principal: Principal | null;
    /** The agent a `client-cert` route's caller proved to be (set by its hook); else null. */
    certifiedAgent: CertifiedAgent | null;
    /** The claims of an `embed-token` route's token (set by its hook); else null. */
    embedClaims: EmbedClaims | null;
  }
  interface FastifyContextConfig {
    /** How the route's caller authenticates (defineRoute sets it); required on every `/api/` route. */
    auth?: RouteAuth;
    /** An `admin` route whose handler bounds what it does to a scoped key's agents and probes. */
    scoped?: boolean;
    /** An `embed-token` route's views: the token must open at least one of them. */
    embedViews?: readonly EmbedView[];
    /** A `key-or-session` route's message to a caller who presents neither (the 401's default message otherwise). */
    unauthenticatedMessage?: string;
  }
}

export interface RouteAuthenticators {
  /** Resolves an admin (key or session) or throws 401/403 (auth/require-admin.ts `adminGuard`). */
  admin: (request: FastifyRequest) => Promise<Principal>;
  /** Resolves a user's session (not a key) or throws 401/403 (auth/require-admin.ts `sessionGuard`). */
  session: (request: FastifyRequest) => Promise<Principal>;
  /** Resolves any user key or a session, undefined when neither is presented; throws 401/403 for a bad one (`principalOf`). */
  keyOrSession: (request: FastifyRequest) => Promise<Principal | undefined>;
  /** Resolves the enrolled agent whose current certificate the TLS peer presented, or throws 401. */
  clientCert: (request: FastifyRequest) => Promise<CertifiedAgent>;
  /** An embed token's claims if it opens one of `views` from an allowed page origin, or throws 401/403 (embed/authenticate.ts). */
  embed: (request: FastifyRequest, views: readonly EmbedView[]) => EmbedClaims;
}

/** The hooks this module made: a route that already carries one (a GET's HEAD twin) does not get a second. */
const authHooks = new WeakSet<object>();

function isRouteAuth(value: unknown): value is RouteAuth {
  return (ROUTE_AUTH as readonly unknown[]).includes(value);
}

/** The `onRequest` hook that authenticates a route declaring `auth`, or undefined for `none`. */
export function authenticationHook(
  auth: RouteAuth,
  route: { method: string; url: string; scoped: boolean; embedViews?: readonly EmbedView[]; unauthenticatedMessage?: string },
  authenticators: RouteAuthenticators,
): onRequestAsyncHookHandler | undefined {
  switch (auth) {
    case 'none':
      return undefined;
    case 'admin':
      return async (request) => {
        const principal = await authenticators.admin(request);
        if (!route.scoped && isScoped(principal.policy))
          throw new HubError(
            'SONDE_ERR_FORBIDDEN',
            `key "${principal.name}" is limited to some agents or probes; ${route.method} ${route.url} acts on the whole hub and needs an unscoped admin key`,
          );
        request.principal = principal;
      };
    case 'session':
      return async (request) => {
        request.principal = await authenticators.session(request);
      };
    case 'key-or-session':
      return async (request) => {
        const principal = await authenticators.keyOrSession(request);
        if (!principal) throw new HubError('SONDE_ERR_UNAUTHORIZED', route.unauthenticatedMessage);
        request.principal = principal;
      };
    case 'enrollment-token':
      return async (request) => {
        if (!bearerOf(request))
          throw new HubError('SONDE_ERR_TOKEN_INVALID', 'Send the enrollment token as "Authorization: Bearer <token>".');
        await Promise.resolve();
      };
    case 'client-cert':
      return async (request) => {
        request.certifiedAgent = await authenticators.clientCert(request);
      };
    case 'embed-token': {
      const views = route.embedViews ?? [];
      if (views.length === 0)
        throw new Error(`${route.method} ${route.url} declares auth "embed-token" without the views it serves (config.embedViews)`);
      return async (request) => {
        request.embedClaims = authenticators.embed(request, views);
        await Promise.resolve();
      };
    }
  }
}

/**
 * Installs the enforcement on `app` (the root, before any area registers a route): request decorations, and an
 * `onRoute` hook that refuses an undeclared `/api/` route and puts the declared authentication first among the
 * route's own `onRequest` hooks.
 */
export function enforceRouteAuth(app: FastifyInstance, authenticators: RouteAuthenticators): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('certifiedAgent', null);
  app.decorateRequest('embedClaims', null);
  app.addHook('onRoute', (route: RouteOptions) => {
    const auth = route.config?.auth;
    if (auth === undefined && !route.url.startsWith('/api/')) return;
    if (!isRouteAuth(auth))
      throw new Error(
        `${String(route.method)} ${route.url} declares no authentication${auth === undefined ? '' : ` it knows ("${String(auth)}")`}: ` +
          `REST routes are declared with defineRoute (hub/src/routes/define.ts) and an auth of ${ROUTE_AUTH.join(', ')}`,
      );
    const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    if (existing.some((hook) => authHooks.has(hook))) return;
    const hook = authenticationHook(
      auth,
      {
        method: String(route.method),
        url: route.url,
        scoped: route.config?.scoped === true,
        embedViews: route.config?.embedViews,
        unauthenticatedMessage: route.config?.unauthenticatedMessage,
      },
      authenticators,
    );
    if (!hook) return;
    authHooks.add(hook);
    // A new array: the options object may share its hook array with the route's HEAD twin.
    route.onRequest = [hook, ...existing];
  });
}
