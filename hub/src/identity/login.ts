import { createHash, randomBytes } from 'node:crypto';
import type * as OpenIdClient from 'openid-client';
import type { OidcProviderConfig } from './config.js';
import { IdentityError } from './errors.js';
import { groupsFromClaims, overageError, transitiveGroupIds } from './groups.js';
import type { LoginStateStore, VerifiedIdentity } from './types.js';

/** A started sign-in lives this long (security model: 10 minutes). */
export const LOGIN_STATE_TTL_MS = 10 * 60_000;
export const CALLBACK_PATH = '/auth/oidc/callback';
/**
 * openid-client (with oauth4webapi and jose, ~1 MB of modules) loads at the first discovery, not at hub start: a
 * hub without single sign-on never needs it, and one with it needs it only when someone signs in. Every use
 * below runs after `configuration()`, which awaits the discovery.
 */
let oidc!: typeof OpenIdClient;
const loadOidc = async (): Promise<typeof OpenIdClient> => (oidc ??= await import('openid-client'));

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface OidcLogin {
  readonly provider: Pick<OidcProviderConfig, 'kind' | 'displayName' | 'issuer'>;
  /** Where the provider sends the browser back: built from the configured public hub URL, never from request headers. */
  readonly redirectUri: string;
  /**
   * Starts a sign-in: stores state, nonce and PKCE verifier server-side and
   * returns the provider URL plus a value for an httpOnly cookie binding the
   * state to this browser.
   */
  begin(): Promise<{ authorizationUrl: string; binding: string }>;
  /** Finishes a sign-in from the callback's query string; throws IdentityError with the reason. */
  complete(query: string, binding: string | undefined): Promise<VerifiedIdentity>;
  /** The provider's end-session URL (RP-initiated logout), when it has one. */
  endSessionUrl(idTokenHint?: string): Promise<string | undefined>;
  /** Discovery now, so a misconfiguration shows at start-up or in a test login. */
  check(): Promise<void>;
}

export interface OidcLoginOptions {
  config: OidcProviderConfig;
  /** The hub's public URL (SONDE_PUBLIC_URL), no trailing slash. */
  publicUrl: string;
  states: LoginStateStore;
  now?: () => number;
  /** The client secret per sign-in (environment, else sealed in the store: identity/client-secret.ts); default config.clientSecret. */
  clientSecret?: () => Promise<string | undefined>;
  /** Every HTTP request to the provider and Microsoft Graph goes through this (tests answer with recorded documents). */
  fetch?: typeof fetch;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

export function createOidcLogin(options: OidcLoginOptions): OidcLogin {
  const { config, states } = options;
  const now = options.now ?? Date.now;
  // Read per sign-in: a hub without SONDE_PUBLIC_URL knows its port only once it listens.
  const publicUrl = () => options.publicUrl.replace(/\/+$/, '');
  const redirectUri = () => `${publicUrl()}${CALLBACK_PATH}`;
  // Discovered once per client secret: a secret an admin sets through the API applies from the next sign-in.
  let discovered: { secret: string | undefined; configuration: Promise<OpenIdClient.Configuration> } | undefined;

  async function configuration(): Promise<OpenIdClient.Configuration> {
    const secret = options.clientSecret ? await options.clientSecret() : config.clientSecret;
    if (!secret && config.kind === 'entra')
      throw new IdentityError(
        'SONDE_ERR_OIDC_CONFIG',
        'no client secret for the Entra app registration: set SONDE_ENTRA_CLIENT_SECRET or PUT /api/v1/auth/oidc/client-secret',
      );
    if (!discovered || discovered.secret !== secret) discovered = { secret, configuration: discover(secret) };
    return discovered.configuration;
  }

  function discover(secret: string | undefined): Promise<OpenIdClient.Configuration> {
    return loadOidc()
      .then((client) =>
        client.discovery(new URL(config.issuer), config.clientId, secret, undefined, {
          execute: config.allowInsecure ? [client.allowInsecureRequests] : [],
          timeout: 10,
          ...(options.fetch ? { [client.customFetch]: options.fetch } : {}),
        }),
      )
      .then((cfg) => {
        if (options.fetch) cfg[oidc.customFetch] = options.fetch;
        // The token endpoint's answer arrives over TLS, so the spec lets clients skip the ID token signature;
        // we verify it against the provider's JWKS anyway (security model: "verified against the provider's keys").
        oidc.enableNonRepudiationChecks(cfg);
        return cfg;
      })
      .catch((error: unknown) => {
        // Try again on the next sign-in rather than caching a failure.
        if (discovered?.secret === secret) discovered = undefined;
        throw new IdentityError(
          'SONDE_ERR_OIDC_CONFIG',
          `discovery at ${config.issuer}/.well-known/openid-configuration failed: ${messageOf(error)}`,
        );
      });
  }

  /** The directory id an Entra ID token must carry: the configured GUID, else the one in the discovered issuer. */
  function expectedTenants(server: OpenIdClient.ServerMetadata): string[] {
    const entra = config.entra!;
    if (entra.allowedTenants.length > 0) return entra.allowedTenants;
    if (GUID.test(entra.tenant)) return [entra.tenant.toLowerCase()];
    const fromIssuer = /\/([0-9a-f-]{36})\/v2\.0$/i.exec(server.issuer)?.[1];
    return fromIssuer ? [fromIssuer.toLowerCase()] : [];
  }

  async function groupsOf(claims: OpenIdClient.IDToken, tokens: { oid: string }, cfg: OpenIdClient.Configuration): Promise<string[]> {
    const found = groupsFromClaims(claims, { claim: config.groupsClaim, entra: config.kind === 'entra' });
    if (!found.overage) return found.groups;
    let accessToken: string;
    try {
      // App-only token for Graph: the user's own token carries only the sign-in scopes.
      const grant = await oidc.clientCredentialsGrant(cfg, { scope: `${config.entra!.graphUrl}/.default` });
      accessToken = grant.access_token;
    } catch (error) {
      throw overageError(`no Microsoft Graph token could be obtained (${messageOf(error)})`);
    }
    const ids = await transitiveGroupIds({ graphUrl: config.entra!.graphUrl, accessToken, userObjectId: tokens.oid, fetch: options.fetch });
    return [...new Set([...found.groups, ...ids])];
  }

  return {
    provider: { kind: config.kind, displayName: config.displayName, issuer: config.issuer },
    get redirectUri() {
      return redirectUri();
    },

    async begin() {
      const cfg = await configuration();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const binding = randomBytes(32).toString('base64url');
      const at = now();
      await states.removeExpired(new Date(at).toISOString());
      await states.put({
        stateHash: sha256(state),
        bindingHash: sha256(binding),
        codeVerifier,
        nonce,
        createdAt: new Date(at).toISOString(),
        expiresAt: new Date(at + LOGIN_STATE_TTL_MS).toISOString(),
        usedAt: null,
      });
      const url = oidc.buildAuthorizationUrl(cfg, {
        redirect_uri: redirectUri(),
        scope: config.scopes.join(' '),
        response_type: 'code',
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      return { authorizationUrl: url.href, binding };
    },

    async complete(query, binding) {
      const params = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
      const state = params.get('state');
      if (!state || state.length > 512) throw new IdentityError('SONDE_ERR_OIDC_STATE', 'the callback carries no state');
      const at = now();
      const record = await states.take(sha256(state), new Date(at).toISOString());
      if (!record) throw new IdentityError('SONDE_ERR_OIDC_STATE', 'the state is unknown (never issued, or older than 10 minutes)');
      if (record.usedAt) throw new IdentityError('SONDE_ERR_OIDC_REPLAY', `the state was already used at ${record.usedAt}`);
      if (Date.parse(record.expiresAt) <= at) throw new IdentityError('SONDE_ERR_OIDC_STATE', 'the sign-in took longer than 10 minutes');
      if (!binding || sha256(binding) !== record.bindingHash)
        throw new IdentityError('SONDE_ERR_OIDC_STATE', 'the sign-in was started in another browser (binding cookie missing or different)');
      const providerError = params.get('error');
      if (providerError) {
        const description = params.get('error_description');
        throw new IdentityError(
          'SONDE_ERR_OIDC_PROVIDER',
          `the provider answered ${clip(providerError)}${description ? `: ${clip(description)}` : ''}`,
        );
      }
      const cfg = await configuration();
      let tokens: Awaited<ReturnType<typeof OpenIdClient.authorizationCodeGrant>>;
      try {
        const callback = new URL(redirectUri());
        callback.search = params.toString();
        tokens = await oidc.authorizationCodeGrant(cfg, callback, {
          pkceCodeVerifier: record.codeVerifier,
          expectedState: state,
          expectedNonce: record.nonce,
          idTokenExpected: true,
        });
      } catch (error) {
        throw classify(error);
      }
      const claims = tokens.claims();
      if (!claims || !tokens.id_token) throw new IdentityError('SONDE_ERR_OIDC_TOKEN', 'the token response has no ID token');
      let subject: string;
      let tenantId: string | null = null;
      let groups: string[];
      const email = stringClaim(claims.email) ?? (config.kind === 'entra' ? stringClaim(claims.preferred_username) : undefined);
      if (config.kind === 'entra') {
        const tid = stringClaim(claims.tid)?.toLowerCase();
        const oid = stringClaim(claims.oid);
        if (!tid || !oid) throw new IdentityError('SONDE_ERR_OIDC_TOKEN', 'the Entra ID token lacks tid or oid');
        const allowed = expectedTenants(cfg.serverMetadata());
        if (!allowed.includes(tid))
          throw new IdentityError('SONDE_ERR_OIDC_TENANT', `directory ${tid} is not accepted (allowed: ${allowed.join(', ') || 'none'})`);
        subject = `entra:${tid}:${oid}`;
        tenantId = tid;
        groups = await groupsOf(claims, { oid }, cfg);
      } else {
        subject = `${claims.iss}#${claims.sub}`;
        groups = await groupsOf(claims, { oid: '' }, cfg);
      }
      const emailVerified = claims.email_verified;
      return {
        subject,
        issuer: claims.iss,
        // An e-mail the provider says is unverified never claims a pre-added user.
        email: email && emailVerified !== false ? email.toLowerCase() : null,
        name: stringClaim(claims.name) ?? email ?? null,
        groups,
        tenantId,
        idToken: tokens.id_token,
      };
    },

    async endSessionUrl(idTokenHint) {
      const cfg = await configuration().catch(() => undefined);
      if (!cfg?.serverMetadata().end_session_endpoint) return undefined;
      return oidc.buildEndSessionUrl(cfg, {
        post_logout_redirect_uri: `${publicUrl()}/`,
        client_id: config.clientId,
        ...(idTokenHint ? { id_token_hint: idTokenHint } : {}),
      }).href;
    },

    async check() {
      await configuration();
    },
  };
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 320 ? value : undefined;
}

function clip(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

function messageOf(error: unknown): string {
  const base = error instanceof Error ? error.message : String(error);
  const cause = (error as { cause?: unknown }).cause;
  // openid-client wraps oauth4webapi's error, whose message names the failing claim (`aud`, `iss`, `nonce`).
  if (cause instanceof Error && cause.message && !base.includes(cause.message)) return clip(`${base}: ${cause.message}`);
  const code = (cause as { code?: unknown } | undefined)?.code;
  return clip(typeof code === 'string' ? `${base} (${code})` : base);
}

const TOKEN_CODES = new Set(['OAUTH_JWT_TIMESTAMP_CHECK_FAILED', 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', 'OAUTH_KEY_SELECTION_FAILED']);

/**
 * openid-client failures as the hub's reasons: the provider refused, or its ID token does not verify. Only called
 * on what one of its calls threw, so the module is loaded.
 */
function classify(error: unknown): IdentityError {
  if (error instanceof oidc.ResponseBodyError) {
    const hint = error.error === 'invalid_grant' ? ' (the code was already used, expired, or belongs to another sign-in)' : '';
    return new IdentityError('SONDE_ERR_OIDC_PROVIDER', `the token endpoint answered ${clip(error.error)}${hint}`);
  }
  if (error instanceof oidc.AuthorizationResponseError)
    return new IdentityError('SONDE_ERR_OIDC_PROVIDER', `the provider answered ${clip(error.error)}`);
  const code = (error as { code?: unknown }).code;
  const message = messageOf(error);
  if ((typeof code === 'string' && TOKEN_CODES.has(code)) || /JWT|JWS|signature|ID Token|id_token/i.test(message))
    return new IdentityError('SONDE_ERR_OIDC_TOKEN', message);
  return new IdentityError('SONDE_ERR_OIDC_PROVIDER', `the token exchange failed: ${message}`);
}
