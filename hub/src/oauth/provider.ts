import { createECDH, hkdfSync } from 'node:crypto';
import type {
  KoaContextWithOIDC,
  Configuration,
  default as ProviderClass,
  ClientMetadata,
  interactionPolicy as interactionPolicyModule,
} from 'oidc-provider';
import type { Sealer } from '../crypto/index.js';
import type { AuditLog } from '../services.js';
import type { HubStore } from '../store/types.js';
import { storeAdapterFactory } from './adapter.js';
import { clientAllowed, cimdUrlAllowed } from './clients.js';
import type { OAuthConfig } from './config.js';
import { guardedFetch } from './fetch.js';
import { activeUser } from './users.js';

/** Where oidc-provider's endpoints live under the hub (the issuer is the hub's public URL itself). */
export const OAUTH_PREFIX = '/oauth';
export const INTERACTION_PATH = `${OAUTH_PREFIX}/interaction`;
/** The one scope MCP tools need; narrower per-pack scopes are not defined (yet). */
export const MCP_SCOPE = 'mcp';

export interface AuthorizationServerOptions {
  config: OAuthConfig;
  /** The hub's public URL (no trailing slash); read when the server is first built. */
  publicUrl: () => string;
  store: HubStore;
  /** 32 bytes derived from SONDE_SECRET: cookie keys and the ID token signing key come from it. */
  secret: Buffer;
  trustProxy: boolean;
  /** Seals registered clients' secrets at rest (adapter.ts); the hub's sealer from SONDE_SECRET. */
  sealer?: Sealer;
  /** Every token request (code exchange, refresh) is one entry: who, which client, granted or why not. */
  audit?: AuditLog;
  /** Where oidc-provider's server errors go (the hub log). */
  log?: { error(details: Record<string, unknown>, message: string): void };
}

export interface AuthorizationServer {
  provider: ProviderClass;
  issuer: string;
  /** The canonical MCP URL: every access token's audience. */
  resource: string;
}

/** `/mcp`, `/mcp/` and `/mcp/packs/<pack>` all name the hub's MCP resource; anything else is another resource. */
export function canonicalResource(indicator: string, mcpUrl: string): string | undefined {
  const trimmed = indicator.replace(/\/+$/, '');
  if (trimmed === mcpUrl) return mcpUrl;
  if (trimmed.startsWith(`${mcpUrl}/packs/`) && /^[a-z0-9][a-z0-9-]{0,63}$/.test(trimmed.slice(mcpUrl.length + 7))) return mcpUrl;
  return undefined;
}

type PolicyModule = typeof interactionPolicyModule;

/** A redirect URI any local program could listen on or claim: loopback http, or a private-use scheme. */
export function unverifiableRedirect(uri: string): boolean {
  try {
    const url = new URL(uri);
    return url.protocol !== 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  } catch {
    return true;
  }
}

/**
 * oidc-provider's default prompts, except that a remembered consent is reused for a client whose redirect URI is a
 * claimed https URL (claude.ai): RFC 8252 §8.6's rule (ask again, since another program can pose as the client)
 * applies to loopback and private-use-scheme redirects only, not to every client registered as native.
 */
function interactionPolicy(base: PolicyModule['base'], Check: PolicyModule['Check']) {
  const policy = base();
  const consent = policy.get('consent')!;
  consent.checks.remove('native_client_prompt');
  consent.checks.add(
    new Check('unverifiable_redirect', 'a loopback or private-use redirect URI needs the user each time', 'interaction_required', (ctx) =>
      typeof ctx.oidc.params?.redirect_uri === 'string' && unverifiableRedirect(ctx.oidc.params.redirect_uri) && !ctx.oidc.result?.consent
        ? Check.REQUEST_PROMPT
        : Check.NO_NEED_TO_PROMPT,
    ),
    0,
  );
  return policy;
}

const b64url = (buffer: Buffer) => buffer.toString('base64url');

/** An ES256 key derived from SONDE_SECRET: hubs sharing the secret sign alike, and nothing is stored. */
function signingJwk(secret: Buffer): Record<string, string> {
  const d = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'sonde/oauth-es256/v1', 32));
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const publicKey = ecdh.getPublicKey();
  return {
    kty: 'EC',
    crv: 'P-256',
    d: b64url(d),
    x: b64url(publicKey.subarray(1, 33)),
    y: b64url(publicKey.subarray(33, 65)),
    alg: 'ES256',
    use: 'sig',
    kid: b64url(Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'sonde/oauth-es256-kid/v1', 9))),
  };
}

/**
 * The hub's OAuth 2.1 authorization server: oidc-provider (panva, OpenID
 * certified) configured for MCP clients. Authorization code with PKCE S256
 * only; access tokens are opaque, short-lived and bound to the canonical MCP
 * URL (RFC 8707); public clients get rotating refresh tokens; RFC 9207 `iss`,
 * revocation (RFC 7009), Dynamic Client Registration and Client ID Metadata
 * Documents as configured. Built on first use: the issuer is the public URL,
 * which without SONDE_PUBLIC_URL is known only after listen().
 */
export async function createAuthorizationServer(options: AuthorizationServerOptions): Promise<AuthorizationServer> {
  const {
    default: Provider,
    errors,
    interactionPolicy: { base, Check },
  } = await import('oidc-provider');
  const { config, store } = options;
  const issuer = options.publicUrl();
  const resource = `${issuer}/mcp`;
  const cookieKey = b64url(Buffer.from(hkdfSync('sha256', options.secret, Buffer.alloc(0), 'sonde/oauth-cookies/v1', 32)));
  const fetch = guardedFetch({ allowPrivate: config.fetchAllowPrivate, ca: config.fetchCa });

  const staticClients: ClientMetadata[] = config.staticClients.map((c) => ({
    application_type: 'native',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    ...c,
  }));

  const configuration: Configuration = {
    adapter: storeAdapterFactory(() => store.oauth, Date.now, options.sealer),
    clients: staticClients,
    // MCP clients register without saying what they are: native allows loopback redirect URIs on any port (RFC 8252),
    // private-use schemes (cursor://) and claimed https URIs, and refuses javascript:/data:/file: and http to a non-loopback host.
    clientDefaults: {
      application_type: 'native',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      id_token_signed_response_alg: 'ES256',
    },
    jwks: { keys: [signingJwk(options.secret)] },
    cookies: { keys: [cookieKey] },
    scopes: [MCP_SCOPE, 'offline_access', 'openid'],
    claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
    responseTypes: ['code'],
    pkce: { required: () => true },
    enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
    routes: {
      authorization: `${OAUTH_PREFIX}/authorize`,
      token: `${OAUTH_PREFIX}/token`,
      registration: `${OAUTH_PREFIX}/register`,
      revocation: `${OAUTH_PREFIX}/revoke`,
      jwks: `${OAUTH_PREFIX}/jwks`,
      userinfo: `${OAUTH_PREFIX}/userinfo`,
      end_session: `${OAUTH_PREFIX}/logout`,
      introspection: `${OAUTH_PREFIX}/introspect`,
      pushed_authorization_request: `${OAUTH_PREFIX}/par`,
      code_verification: `${OAUTH_PREFIX}/device`,
      device_authorization: `${OAUTH_PREFIX}/device/auth`,
      challenge: `${OAUTH_PREFIX}/challenge`,
      backchannel_authentication: `${OAUTH_PREFIX}/backchannel`,
    },
    interactions: { url: (_ctx, interaction) => `${INTERACTION_PATH}/${interaction.uid}`, policy: interactionPolicy(base, Check) },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      revocation: { enabled: true },
      registration: { enabled: config.dcr, initialAccessToken: false },
      resourceIndicators: {
        enabled: true,
        // A client that names no resource (ChatGPT on reconnect) gets the MCP endpoint.
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (!canonicalResource(indicator, resource))
            throw new errors.InvalidTarget(`this hub issues tokens only for ${resource}, not ${indicator}`);
          return {
            scope: MCP_SCOPE,
            audience: resource,
            accessTokenTTL: config.accessTokenTtlS,
            accessTokenFormat: 'opaque',
          };
        },
      },
      clientIdMetadataDocument: {
        enabled: config.cimd,
        // The draft oidc-provider 9.13 implements; a later draft is a reviewed upgrade, not a silent change.
        ack: 'draft-02',
        allowFetch: (_ctx, clientId) => cimdUrlAllowed(clientId, config.clientDomains),
        allowClient: (_ctx, client) => clientAllowed(client.metadata(), config.clientDomains),
      },
    },
    // Browser-based MCP clients call the token endpoint from their own origin; PKCE, not the origin, protects it.
    clientBasedCORS: () => true,
    ttl: {
      AccessToken: config.accessTokenTtlS,
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 8 * 3600,
      Grant: config.refreshTokenTtlS,
      RefreshToken: config.refreshTokenTtlS,
    },
    // Tokens outlive the hub's browser session (the client keeps working); disabling the user or revoking consent ends them.
    expiresWithSession: () => false,
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    async findAccount(_ctx, id) {
      const user = await activeUser(store, id);
      if (!user) return undefined;
      return {
        accountId: user.user.id,
        claims: () => ({ sub: user.user.id, name: user.user.displayName ?? user.user.name, email: user.user.email ?? undefined }),
      };
    },
    // Consent is remembered per user and client (not per browser): the newest grant between them is reused.
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const accountId = ctx.oidc.session?.accountId;
      const clientId = ctx.oidc.client?.clientId;
      if (!accountId || !clientId) return undefined;
      const resultGrant = ctx.oidc.result?.consent?.grantId;
      if (resultGrant) return ctx.oidc.provider.Grant.find(resultGrant);
      const grants = await store.oauth.list('Grant', { userId: accountId, clientId }, new Date().toISOString());
      const newest = grants.at(-1);
      if (!newest) return undefined;
      const jti = (JSON.parse(newest.payload) as { jti?: string }).jti;
      return jti ? ctx.oidc.provider.Grant.find(jti) : undefined;
    },
    fetch: fetch as Configuration['fetch'],
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = errorPage(out.error ?? 'error', out.error_description ?? 'the request could not be completed');
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.proxy = options.trustProxy;
  provider.on('server_error', (_ctx: unknown, error: Error) => options.log?.error({ err: error }, 'oauth server error'));

  // The token endpoint's outcome is audited before the answer leaves (a reused code or a replayed refresh token shows).
  provider.use(async (ctx, next) => {
    await next();
    if (!options.audit || ctx.path !== `${OAUTH_PREFIX}/token` || ctx.method !== 'POST') return;
    const oidc = (ctx as Partial<KoaContextWithOIDC>).oidc;
    const params = (oidc?.params ?? {}) as Record<string, unknown>;
    const answer = (ctx.body ?? {}) as { error?: string; error_description?: string };
    const accountId = oidc?.entities?.AccessToken?.accountId ?? oidc?.entities?.Grant?.accountId;
    const user = accountId ? await store.users.getById(accountId) : undefined;
    const clientId = oidc?.client?.clientId ?? (typeof params.client_id === 'string' ? params.client_id : null);
    await options.audit.append({
      action: 'oauth.token',
      actor: { kind: 'user', id: accountId ?? null, name: user?.name ?? null },
      clientId: clientId?.slice(0, 200) ?? null,
      status: ctx.status === 200 ? 'ok' : 'denied',
      params: {
        grantType: typeof params.grant_type === 'string' ? params.grant_type : null,
        ...(answer.error ? { error: answer.error } : {}),
      },
      detail: answer.error_description?.slice(0, 300) ?? null,
    });
  });

  // A client's secret is shown once, in the registration answer: reading the registration back (RFC 7591's client
  // read, with the registration access token) answers the metadata without it. A lost secret means registering again.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.method !== 'GET' || !ctx.path.startsWith(`${OAUTH_PREFIX}/register/`)) return;
    const body = ctx.body as Record<string, unknown> | undefined;
    if (body && typeof body === 'object' && 'client_secret' in body) {
      delete body.client_secret;
      delete body.client_secret_expires_at;
    }
  });

  // ChatGPT omits `scope` on reconnect and Claude sends its own (`claudeai`, ignored as unknown): every MCP client
  // wants the tools, so an authorization request always asks for `mcp`.
  provider.use(async (ctx, next) => {
    if (ctx.path === `${OAUTH_PREFIX}/authorize` && ctx.method === 'GET') {
      const requested = typeof ctx.query.scope === 'string' ? ctx.query.scope.split(' ').filter(Boolean) : [];
      if (!requested.includes(MCP_SCOPE)) ctx.query = { ...ctx.query, scope: [...requested, MCP_SCOPE].join(' ') };
    }
    await next();
  });
  return { provider, issuer, resource };
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function errorPage(title: string, detail: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sonde: ${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p></body></html>`;
}
