import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The hub as an OAuth 2.1 authorization server for MCP clients (issue 24), from
 * SONDE_OAUTH_* variables. Static API keys keep working whatever is set here.
 */

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const list = z.string().transform((s) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim().toLowerCase())
    .filter(Boolean),
);
const seconds = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const OAuthEnvSchema = z.object({
  /** The authorization server and the Bearer challenge pointing MCP clients at it. */
  SONDE_OAUTH_ENABLED: bool.default(true),
  /** Client ID Metadata Documents: a client_id that is an https URL, fetched by the hub. */
  SONDE_OAUTH_CIMD: bool.default(true),
  /** Dynamic Client Registration (RFC 7591), deprecated by the MCP spec but what most clients still send. */
  SONDE_OAUTH_DCR: bool.default(true),
  /** A JSON file with an array of pre-registered clients (RFC 7591 metadata with client_id). */
  SONDE_OAUTH_STATIC_CLIENTS: z.string().min(1).optional(),
  /**
   * Which clients may register: host names (`claude.ai`, `*.example.com`), `localhost` for loopback redirect URIs,
   * `scheme:` for a private-use scheme (`cursor:`). Empty: any client.
   */
  SONDE_OAUTH_CLIENT_DOMAINS: list.default([]),
  SONDE_OAUTH_ACCESS_TOKEN_TTL: seconds(10, 86_400).default(900),
  SONDE_OAUTH_REFRESH_TOKEN_TTL: seconds(60, 90 * 86_400).default(14 * 86_400),
  /** Tests and private PKI only: `host:port` of client metadata documents the hub may fetch although they are on a private address. */
  SONDE_OAUTH_FETCH_ALLOW_PRIVATE: list.default([]),
  /** Tests and private PKI only: a PEM file of extra CA certificates for fetching client metadata documents. */
  SONDE_OAUTH_FETCH_CA_FILE: z.string().min(1).optional(),
});

export type OAuthEnv = z.infer<typeof OAuthEnvSchema>;

const StaticClientSchema = z
  .object({
    client_id: z.string().min(1).max(200),
    client_name: z.string().max(200).optional(),
    redirect_uris: z.array(z.string().min(1)).min(1),
    token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post']).default('none'),
    client_secret: z.string().min(16).optional(),
  })
  .loose();
export type StaticClient = z.infer<typeof StaticClientSchema>;

export interface OAuthConfig {
  enabled: boolean;
  cimd: boolean;
  dcr: boolean;
  staticClients: StaticClient[];
  clientDomains: string[];
  accessTokenTtlS: number;
  refreshTokenTtlS: number;
  fetchAllowPrivate: string[];
  fetchCa: string | undefined;
}

/** Problems come back one line each, naming the variable (like the rest of config.ts). */
export function loadOAuthConfig(e: OAuthEnv, problems: string[]): OAuthConfig {
  let staticClients: StaticClient[] = [];
  if (e.SONDE_OAUTH_STATIC_CLIENTS) {
    try {
      const parsed = z.array(StaticClientSchema).safeParse(JSON.parse(readFileSync(e.SONDE_OAUTH_STATIC_CLIENTS, 'utf8')));
      if (parsed.success) staticClients = parsed.data;
      else problems.push(`SONDE_OAUTH_STATIC_CLIENTS: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
    } catch (error) {
      problems.push(`SONDE_OAUTH_STATIC_CLIENTS cannot be read as JSON: ${(error as Error).message}`);
    }
  }
  let fetchCa: string | undefined;
  if (e.SONDE_OAUTH_FETCH_CA_FILE) {
    try {
      fetchCa = readFileSync(e.SONDE_OAUTH_FETCH_CA_FILE, 'utf8');
    } catch (error) {
      problems.push(`SONDE_OAUTH_FETCH_CA_FILE cannot be read: ${(error as Error).message}`);
    }
  }
  return {
    enabled: e.SONDE_OAUTH_ENABLED,
    cimd: e.SONDE_OAUTH_CIMD,
    dcr: e.SONDE_OAUTH_DCR,
    staticClients,
    clientDomains: e.SONDE_OAUTH_CLIENT_DOMAINS,
    accessTokenTtlS: e.SONDE_OAUTH_ACCESS_TOKEN_TTL,
    refreshTokenTtlS: e.SONDE_OAUTH_REFRESH_TOKEN_TTL,
    fetchAllowPrivate: e.SONDE_OAUTH_FETCH_ALLOW_PRIVATE,
    fetchCa,
  };
}
