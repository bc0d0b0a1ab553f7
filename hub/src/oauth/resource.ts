import type { Principal } from '../services.js';
import type { HubStore } from '../store/types.js';
import { MCP_SCOPE, type AuthorizationServer } from './provider.js';
import { activeUser, userPrincipal } from './users.js';

export const PRM_PATH = '/.well-known/oauth-protected-resource';

/** The MCP endpoint a request reached, as a path: `/mcp` or `/mcp/packs/<pack>`. */
export type EndpointPath = string;

/** RFC 9728 Protected Resource Metadata for one MCP endpoint (the root document describes `/mcp`). */
export function protectedResourceMetadata(publicUrl: string, endpointPath: EndpointPath = '/mcp'): Record<string, unknown> {
  return {
    resource: `${publicUrl}${endpointPath}`,
    authorization_servers: [publicUrl],
    scopes_supported: [MCP_SCOPE],
    bearer_methods_supported: ['header'],
    resource_name: 'Sonde',
    resource_documentation: 'https://sonde.dev/docs/mcp-authorization',
  };
}

/** The `WWW-Authenticate` value of a 401/403 from an MCP endpoint (RFC 6750 + RFC 9728 `resource_metadata`). */
export function bearerChallenge(
  publicUrl: string,
  endpointPath: EndpointPath,
  error?: { code: 'invalid_token' | 'insufficient_scope'; description: string },
): string {
  const parts = [`realm="sonde"`, `resource_metadata="${publicUrl}${PRM_PATH}${endpointPath}"`, `scope="${MCP_SCOPE}"`];
  if (error) parts.push(`error="${error.code}"`, `error_description="${error.description.replace(/["\\]/g, '')}"`);
  return `Bearer ${parts.join(', ')}`;
}

export type TokenCheck =
  { ok: true; principal: Principal; clientId: string } | { ok: false; code: 'invalid_token' | 'insufficient_scope'; description: string };

/**
 * The resource server's check of an OAuth access token on `/mcp`: issued by this
 * hub, not expired or revoked, for the hub's MCP URL (a token for another
 * resource is refused), carrying the `mcp` scope, and its user still active.
 * The token never leaves the hub: agents see only signed probe requests.
 */
export async function checkAccessToken(server: AuthorizationServer, store: HubStore, raw: string): Promise<TokenCheck> {
  if (raw.length > 512) return { ok: false, code: 'invalid_token', description: 'unknown token' };
  const token = await server.provider.AccessToken.find(raw);
  if (!token || token.isExpired) return { ok: false, code: 'invalid_token', description: 'unknown, expired or revoked token' };
  const audience = Array.isArray(token.aud) ? token.aud : [token.aud];
  if (!audience.includes(server.resource))
    return { ok: false, code: 'invalid_token', description: 'the token was issued for another resource' };
  if (!token.scopes.has(MCP_SCOPE)) return { ok: false, code: 'insufficient_scope', description: `the token lacks the ${MCP_SCOPE} scope` };
  const active = token.accountId ? await activeUser(store, token.accountId) : undefined;
  if (!active) return { ok: false, code: 'invalid_token', description: 'the user is disabled or removed' };
  return { ok: true, principal: userPrincipal(active.user, active.role), clientId: token.clientId ?? 'unknown' };
}
