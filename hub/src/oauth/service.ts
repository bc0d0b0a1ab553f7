import type { Sealer } from '../crypto/index.js';
import type { AuditLog } from '../services.js';
import type { HubStore } from '../store/types.js';
import type { OAuthConfig } from './config.js';
import { createAuthorizationServer, type AuthorizationServer } from './provider.js';
import { bearerChallenge, checkAccessToken, type TokenCheck } from './resource.js';

export interface OAuthServiceOptions {
  config: OAuthConfig;
  publicUrl: () => string;
  store: HubStore;
  audit: AuditLog;
  secret: Buffer;
  /** Seals registered clients' secrets at rest. */
  sealer?: Sealer;
  trustProxy: boolean;
  log?: { error(details: Record<string, unknown>, message: string): void };
}

/** What the MCP endpoint (resource server) and the OAuth routes share. */
export interface OAuthService {
  readonly config: OAuthConfig;
  /** The authorization server, built on first use (oidc-provider loads then, not at start-up). */
  server(): Promise<AuthorizationServer>;
  /** Checks an access token presented to `/mcp` (anything that is not a `sonde_` API key). */
  authenticate(token: string): Promise<TokenCheck>;
  /** `WWW-Authenticate` for a refusal at `endpointPath`. */
  challenge(endpointPath: string, error?: { code: 'invalid_token' | 'insufficient_scope'; description: string }): string;
  publicUrl(): string;
  store: HubStore;
  audit: AuditLog;
  /** Ends every token, code and grant of a client (DCR client removed by an admin). */
  removeClient(clientId: string): Promise<number>;
}

export function createOAuthService(options: OAuthServiceOptions): OAuthService {
  let built: Promise<AuthorizationServer> | undefined;
  const server = () =>
    (built ??= createAuthorizationServer(options).catch((error: unknown) => {
      built = undefined;
      throw error;
    }));
  return {
    config: options.config,
    server,
    async authenticate(token) {
      return checkAccessToken(await server(), options.store, token);
    },
    challenge: (endpointPath, error) => bearerChallenge(options.publicUrl(), endpointPath, error),
    publicUrl: options.publicUrl,
    store: options.store,
    audit: options.audit,
    async removeClient(clientId) {
      return options.store.oauth.removeWhere({ clientId });
    },
  };
}
