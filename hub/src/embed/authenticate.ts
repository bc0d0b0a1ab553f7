import type { FastifyRequest } from 'fastify';
import { bearerOf } from '../auth/require-admin.js';
import { HubError } from '../errors.js';
import type { EmbedClaims, EmbedTokens } from './tokens.js';

/** A view an embed route serves (`config.embedViews`): a token must open at least one of the route's views. */
export type EmbedView = EmbedClaims['views'][number];

/**
 * The check behind every `auth: 'embed-token'` route (auth/route-auth.ts runs it as the route's onRequest hook):
 * the Bearer token's claims, or 401/403. A token for another view, used from another page origin, or expired, gets
 * nothing. `allowedOrigins` is SONDE_EMBED_ORIGINS: a token minted for an origin later removed from it stops working.
 */
export function embedGuard(
  tokens: Pick<EmbedTokens, 'verify'>,
  allowedOrigins: ReadonlySet<string>,
): (request: FastifyRequest, views: readonly EmbedView[]) => EmbedClaims {
  return (request, views) => {
    const bearer = bearerOf(request);
    const claims = bearer ? tokens.verify(bearer) : undefined;
    if (!claims) throw new HubError('SONDE_ERR_UNAUTHORIZED', 'An embed token is required (unknown, malformed or expired).');
    const origin = request.headers.origin;
    // A browser names the page that sent a cross-origin request; only the pages the token was minted for may use it.
    if (origin !== undefined && !(allowedOrigins.has(origin) && claims.origins.includes(origin)))
      throw new HubError('SONDE_ERR_FORBIDDEN', 'This page’s origin may not use this embed token.');
    if (!views.some((view) => claims.views.includes(view)))
      throw new HubError('SONDE_ERR_FORBIDDEN', `This embed token does not open the ${views.join(' or ')} view.`);
    return claims;
  };
}
