import type { FastifyRequest } from 'fastify';
import { HubError } from '../errors.js';
import { CLIENT_HEADER } from '../mcp/client-id.js';
import type { ApiKeyService } from '../keys/index.js';
import type { PolicyDecisionPoint, Principal } from '../services.js';
import { parseCookies, SESSION_COOKIE, type SessionService } from './sessions.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Sent by the dashboard's HubClient on every state-changing request (any value). */
export const CSRF_HEADER = 'x-sonde-csrf';

export function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new HubError('SONDE_ERR_UNAUTHORIZED', 'The Authorization header must be "Bearer <API key>".');
  return match[1];
}

/** Resolves the caller from a Bearer user key or a session cookie; agent keys are never accepted here. */
export async function principalOf(
  request: FastifyRequest,
  apiKeys: ApiKeyService,
  sessions: SessionService,
): Promise<Principal | undefined> {
  const bearer = bearerOf(request);
  if (bearer !== undefined) {
    const principal = await apiKeys.authenticateUser(bearer);
    if (!principal) throw new HubError('SONDE_ERR_UNAUTHORIZED', 'The API key is unknown, revoked or not a user key.');
    return principal;
  }
  const sessionId = parseCookies(request.headers.cookie)[SESSION_COOKIE];
  if (!sessionId) return undefined;
  const principal = await sessions.resolve(sessionId);
  if (!principal) throw new HubError('SONDE_ERR_UNAUTHORIZED', 'The session expired; log in again.');
  // SameSite=Lax keeps the cookie off cross-site POSTs, but not off same-site ones (another port or subdomain):
  // an Origin from another host is refused, and a change must carry the custom header the dashboard sends,
  // which a form cannot set and a cross-origin script cannot send without a CORS preflight the hub never grants
  // with credentials. Bearer requests return above: a key is never sent by the browser on its own.
  if (!SAFE_METHODS.has(request.method)) {
    if (request.headers[CSRF_HEADER] === undefined)
      throw new HubError('SONDE_ERR_CSRF', `A change made with the session cookie must carry the ${CSRF_HEADER} header.`);
    const origin = request.headers.origin;
    if (origin !== undefined) {
      let host: string | undefined;
      try {
        host = new URL(origin).host;
      } catch {
        host = undefined;
      }
      if (host !== request.headers.host) throw new HubError('SONDE_ERR_CSRF');
    }
  }
  return principal;
}

/** A signed-in user's session for what users do for themselves (their own keys): an API key is refused. */
export function sessionGuard(apiKeys: ApiKeyService, sessions: SessionService): (request: FastifyRequest) => Promise<Principal> {
  return async (request) => {
    const principal = await principalOf(request, apiKeys, sessions);
    if (!principal) throw new HubError('SONDE_ERR_UNAUTHORIZED', 'Sign in first: your own keys are managed from a browser session.');
    if (principal.kind !== 'user') throw new HubError('SONDE_ERR_FORBIDDEN', 'An API key cannot create keys for itself; sign in.');
    return principal;
  };
}

export function adminGuard(
  apiKeys: ApiKeyService,
  sessions: SessionService,
  pdp: PolicyDecisionPoint,
): (request: FastifyRequest) => Promise<Principal> {
  return async (request) => {
    const principal = await principalOf(request, apiKeys, sessions);
    if (!principal) throw new HubError('SONDE_ERR_UNAUTHORIZED');
    const decision = pdp.checkAdmin(principal);
    if (!decision.allowed) throw new HubError('SONDE_ERR_FORBIDDEN', decision.reason);
    // allowedClients applies on REST as on MCP: the same self-declared label (x-sonde-client), never a proof (docs/security.md).
    const header = request.headers[CLIENT_HEADER];
    const client = pdp.checkClient(principal, typeof header === 'string' ? header : undefined);
    if (!client.allowed) throw new HubError('SONDE_ERR_POLICY_DENIED', client.reason);
    return principal;
  };
}
