import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { localAttemptCounters, type AttemptCounters } from '../auth/rate-limit.js';
import { clientCertGuard } from '../auth/client-cert.js';
import { adminGuard, principalOf, sessionGuard } from '../auth/require-admin.js';
import { enforceRouteAuth } from '../auth/route-auth.js';
import { createSessionService, type SessionService } from '../auth/sessions.js';
import type { HubCore } from '../core.js';
import { embedGuard } from '../embed/authenticate.js';
import { createEmbedTokens } from '../embed/tokens.js';
import { createClientSecrets, createOidcLogin, type OidcProviderConfig } from '../identity/index.js';
import type { ClientSecrets } from '../identity/client-secret.js';
import type { OidcLogin } from '../identity/login.js';
import { createSignIn, type SignIn } from '../identity/sign-in.js';
import type { Principal } from '../services.js';

/**
 * Who is asking, for every REST area: sessions, login throttling, single sign-on and the admin guard; and the
 * enforcement of each route's declared authentication as its onRequest hook (auth/route-auth.ts).
 */
export interface HubAuth {
  sessions: SessionService;
  /** Failure windows (login throttling): in memory on one hub, shared over NATS by a cluster (auth/rate-limit.ts). */
  limits: AttemptCounters;
  /** Single sign-on (hub/src/identity), when SONDE_ENTRA_* or SONDE_OIDC_* configure a provider. */
  sso: { login: OidcLogin; signIn: SignIn; clientSecrets: ClientSecrets } | undefined;
  /** Throws 401/403 unless the request carries an admin API key or an admin session. */
  requireAdmin: (request: FastifyRequest) => Promise<Principal>;
  /** Cookies get `Secure` when the hub serves TLS or its public URL is https. */
  secureCookies: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    auth: HubAuth;
  }
}

/** Single sign-on: the provider flow (discovery on first use) and what a verified sign-in does to users, sessions and audit. */
function createSso(identity: OidcProviderConfig, core: HubCore, sessions: SessionService, publicUrl: () => string) {
  const clientSecrets = createClientSecrets({
    fromEnvironment: identity.clientSecret,
    settings: core.store.settings,
    sealer: core.crypto.sealer,
  });
  const login = createOidcLogin({
    config: identity,
    clientSecret: () => clientSecrets.current(),
    // Read when the first sign-in starts: with SONDE_PUBLIC_URL unset the port is known only after listen().
    get publicUrl() {
      return publicUrl();
    },
    states: core.store.loginStates,
  });
  return { login, clientSecrets, signIn: createSignIn({ login, store: core.store, audit: core.audit, sessions }) };
}

export const authPlugin = fp(
  async (app) => {
    const { core, hubConfig: config } = app;
    const sessions = createSessionService(core.store);
    const requireAdmin = adminGuard(core.apiKeys, sessions, core.pdp);
    app.decorate('auth', {
      sessions,
      limits: app.cluster ? app.cluster.limits : localAttemptCounters,
      sso: config.identity ? createSso(config.identity, core, sessions, () => app.sonde.config.publicUrl) : undefined,
      requireAdmin,
      secureCookies: config.tls.mode !== 'off' || (config.publicUrl?.startsWith('https://') ?? false),
    });
    // Every route registered from here on (every area) authenticates as it declares, in an onRequest hook.
    enforceRouteAuth(app, {
      admin: requireAdmin,
      session: sessionGuard(core.apiKeys, sessions),
      keyOrSession: (request) => principalOf(request, core.apiKeys, sessions),
      clientCert: clientCertGuard(core.store),
      embed: embedGuard(createEmbedTokens(core.crypto.mcpSessionKey), new Set(config.embedOrigins)),
    });
    await Promise.resolve();
  },
  { name: 'sonde-auth', fastify: '5.x', dependencies: ['sonde-core', 'sonde-cluster', 'sonde-services'] },
);
