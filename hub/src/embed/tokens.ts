import { createHmac, hkdfSync, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { anyGlobMatches, validateGlob } from '../policy/glob.js';

/**
 * Embed tokens: what a portal page holds to show a read-only Sonde widget,
 * instead of an API key. Stateless and short-lived (at most 24 h): the claims
 * are signed with an HMAC key derived from SONDE_SECRET, so every hub sharing
 * the secret accepts them and nothing is stored; they end by expiry (rotate
 * SONDE_SECRET to end them all). They are accepted only by the embed routes
 * (`/api/v1/embed/*`): every other route sees an unknown Bearer token (401),
 * so no write and no admin read can be made with one.
 */
export const EMBED_TOKEN_PREFIX = 'sonde_embed_';
export const EMBED_VIEWS = ['fleet', 'agent', 'health-badge', 'trends'] as const;
export const MAX_EMBED_TTL_S = 24 * 60 * 60;

const origin = z
  .string()
  .max(200)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
    } catch {
      return false;
    }
  }, 'must be an origin such as https://portal.example.com (scheme, host and port; no path)');
const glob = z
  .string()
  .min(1)
  .max(200)
  .superRefine((value, ctx) => {
    const problem = validateGlob(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const EmbedTokenRequestSchema = z
  .object({
    views: z
      .array(z.enum(EMBED_VIEWS))
      .min(1)
      .max(EMBED_VIEWS.length)
      .default([...EMBED_VIEWS])
      .describe('Views the token opens'),
    agents: z.array(glob).min(1).max(50).default(['*']).describe('Agent name globs the token may read'),
    origins: z.array(origin).min(1).max(20).describe('Origins of the pages allowed to use the token'),
    ttlSeconds: z.number().int().min(60).max(MAX_EMBED_TTL_S).default(3600).describe('Lifetime, at most 24 h'),
    readOnly: z.literal(true).default(true).describe('Embed tokens only read; writes are never possible with one'),
  })
  .strict();
export type EmbedTokenRequest = z.infer<typeof EmbedTokenRequestSchema>;

const ClaimsSchema = z.object({
  v: z.literal(1),
  id: z.string(),
  views: z.array(z.enum(EMBED_VIEWS)),
  agents: z.array(z.string()),
  origins: z.array(z.string()),
  iat: z.number(),
  exp: z.number(),
  by: z.string(),
});
export type EmbedClaims = z.infer<typeof ClaimsSchema>;

export interface EmbedTokens {
  mint(request: EmbedTokenRequest, by: string, now?: number): { token: string; claims: EmbedClaims };
  /** The claims of a valid, unexpired token; undefined for anything else. */
  verify(token: string, now?: number): EmbedClaims | undefined;
}

export function createEmbedTokens(secretKey: Buffer): EmbedTokens {
  // Its own key, domain-separated from the key it is derived from.
  const key = Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), 'sonde/embed-token/v1', 32));
  const sign = (payload: string): Buffer => createHmac('sha256', key).update(payload).digest();
  return {
    mint(request, by, now = Date.now()) {
      const iat = Math.floor(now / 1000);
      const claims: EmbedClaims = {
        v: 1,
        id: randomUUID(),
        views: request.views,
        agents: request.agents,
        origins: request.origins,
        iat,
        exp: iat + request.ttlSeconds,
        by,
      };
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      return { token: `${EMBED_TOKEN_PREFIX}${payload}.${sign(payload).toString('base64url')}`, claims };
    },
    verify(token, now = Date.now()) {
      if (!token.startsWith(EMBED_TOKEN_PREFIX) || token.length > 4096) return undefined;
      const [payload, signature, extra] = token.slice(EMBED_TOKEN_PREFIX.length).split('.');
      if (!payload || !signature || extra !== undefined) return undefined;
      const given = Buffer.from(signature, 'base64url');
      const expected = sign(payload);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      let claims: EmbedClaims;
      try {
        claims = ClaimsSchema.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
      } catch {
        return undefined;
      }
      return claims.exp * 1000 > now ? claims : undefined;
    },
  };
}

/** Whether the claims let this agent be read. */
export const embedSeesAgent = (claims: EmbedClaims, name: string): boolean => anyGlobMatches(claims.agents, name);
