import { parse as parseQuery } from 'node:querystring';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseCookies, SESSION_COOKIE } from '../auth/sessions.js';
import { safeEqual } from '../crypto/index.js';
import { HubError } from '../errors.js';
import { isScoped } from '../policy/scope.js';
import { defineRoute } from '../routes/define.js';
import { clientAllowed } from './clients.js';
import { ConsentSchema, listConsents, revokeConsent } from './consents.js';
import { consentPage, loginPage, PAGE_CSP } from './pages.js';
import { errorPage, INTERACTION_PATH, OAUTH_PREFIX } from './provider.js';
import { PRM_PATH, protectedResourceMetadata } from './resource.js';
import type { OAuthService } from './service.js';
import { activeUser } from './users.js';

/** Where "Sign in with <provider>" comes back to: only an interaction of this server. */
export const RETURN_PATTERN = /^\/oauth\/interaction\/[A-Za-z0-9_-]{1,64}$/;
const WINDOW_MS = 15 * 60_000;
const REGISTRATIONS_PER_MINUTE = 30;

/** Why single sign-on came back refused, in words (the code itself is in the hub's audit). */
function ssoErrorText(code: string): string {
  const known: Record<string, string> = {
    SONDE_ERR_OIDC_UNKNOWN_USER: 'Your account is not authorized on this hub; ask an administrator to add you or your group.',
    SONDE_ERR_OIDC_USER_DISABLED: 'Your account is disabled on this hub.',
  };
  return known[code] ?? `Single sign-on did not complete (${code.replace(/[^A-Z_]/g, '').slice(0, 60)}).`;
}

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', PAGE_CSP)
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .send(body);
}

/** oidc-provider answers on the raw Node request and response; Fastify steps aside. */
async function handOver(service: OAuthService, request: FastifyRequest, reply: FastifyReply, url?: string): Promise<void> {
  const { provider } = await service.server();
  reply.hijack();
  if (url) request.raw.url = url;
  void provider.callback()(request.raw, reply.raw);
}

/**
 * The OAuth routes: RFC 9728 metadata for the MCP endpoints, RFC 8414 and
 * OpenID discovery, oidc-provider's endpoints under /oauth, the login and
 * consent pages, and the REST routes to list and revoke consents and clients.
 */
export function oauthRoutes(service: OAuthService): FastifyPluginAsync {
  return async (app) => {
    const publicUrl = () => service.publicUrl();

    // Protected Resource Metadata: path-aware for each endpoint, and at the root for clients of the 2025-03 revision.
    const prm = (path: string) => (_request: FastifyRequest, reply: FastifyReply) =>
      reply.header('access-control-allow-origin', '*').send(protectedResourceMetadata(publicUrl(), path));
    app.get(PRM_PATH, prm('/mcp'));
    app.get(`${PRM_PATH}/mcp`, prm('/mcp'));
    app.get(`${PRM_PATH}/mcp/packs/:pack`, (request, reply) => {
      const pack = (request.params as { pack: string }).pack;
      if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(pack)) return reply.code(404).send({ error: 'not_found' });
      return prm(`/mcp/packs/${pack}`)(request, reply);
    });

    await app.register(async (passthrough: FastifyInstance) => {
      // oidc-provider reads the bodies itself (56 KiB limit): Fastify must leave the stream alone.
      passthrough.removeAllContentTypeParsers();
      passthrough.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
      // RFC 8414 metadata is the OpenID discovery document (same fields for this server).
      passthrough.get('/.well-known/oauth-authorization-server', (request, reply) =>
        handOver(service, request, reply, '/.well-known/openid-configuration'),
      );
      passthrough.get('/.well-known/openid-configuration', (request, reply) => handOver(service, request, reply));
      passthrough.all(`${OAUTH_PREFIX}/*`, (request, reply) => handOver(service, request, reply));
      await Promise.resolve();
    });

    // Dynamic Client Registration: the allow-list of client domains applies before oidc-provider sees the request.
    // Each registration is a stored row that nothing expires, so an address may register 30 clients a minute, no more.
    const registrations = app.auth.limits.window('oauth-register', REGISTRATIONS_PER_MINUTE, 60_000);
    await app.register(async (registration: FastifyInstance) => {
      registration.post(`${OAUTH_PREFIX}/register`, { bodyLimit: 56 * 1024 }, async (request, reply) => {
        const wait = await registrations.blockedFor(request.ip);
        if (wait > 0) {
          reply.header('retry-after', String(Math.ceil(wait / 1000)));
          return reply.code(429).send({ error: 'too_many_requests', error_description: 'too many registrations from this address' });
        }
        await registrations.fail(request.ip);
        const body = request.body as { redirect_uris?: unknown } | undefined;
        const uris = Array.isArray(body?.redirect_uris) ? body.redirect_uris.filter((u): u is string => typeof u === 'string') : [];
        if (!service.config.dcr) return reply.code(404).send({ error: 'not_found', error_description: 'dynamic registration is off' });
        if (!clientAllowed({ redirect_uris: uris }, service.config.clientDomains)) {
          return reply.code(400).send({
            error: 'invalid_redirect_uri',
            error_description: 'a redirect URI is outside the client domains this hub allows (SONDE_OAUTH_CLIENT_DOMAINS)',
          });
        }
        // oidc-provider takes an already-parsed body from `req.body` when the stream has been read.
        (request.raw as typeof request.raw & { body?: unknown }).body = body;
        return handOver(service, request, reply);
      });
      await Promise.resolve();
    });

    await app.register(async (pages: FastifyInstance) => {
      pages.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 8 * 1024 }, (_r, body, done) =>
        done(null, parseQuery(body as string)),
      );
      interactionRoutes(pages, service);
      await Promise.resolve();
    });

    consentRoutes(app, service);
  };
}

type Details = Awaited<ReturnType<Awaited<ReturnType<OAuthService['server']>>['provider']['interactionDetails']>>;

function interactionRoutes(app: FastifyInstance, service: OAuthService): void {
  const { core, hubConfig: config, auth } = app;
  const byIp = auth.limits.window('oauth-login-ip', 10, WINDOW_MS);
  const byUser = auth.limits.window('oauth-login-user', 5, WINDOW_MS);

  async function details(request: FastifyRequest, reply: FastifyReply): Promise<Details | undefined> {
    const { provider } = await service.server();
    try {
      return await provider.interactionDetails(request.raw, reply.raw);
    } catch {
      html(reply, 400, errorPage('Sign-in expired', 'This sign-in is unknown or expired. Start again from your MCP client.'));
      return undefined;
    }
  }

  async function finish(request: FastifyRequest, reply: FastifyReply, result: Record<string, unknown>): Promise<FastifyReply> {
    const { provider } = await service.server();
    const to = await provider.interactionResult(request.raw, reply.raw, result, { mergeWithLastSubmission: true });
    return reply.header('cache-control', 'no-store').redirect(to, 303);
  }

  async function clientName(interaction: Details): Promise<{ name: string; id: string }> {
    const { provider } = await service.server();
    const id = typeof interaction.params.client_id === 'string' ? interaction.params.client_id : '';
    const client = await provider.Client.find(id);
    return { id, name: client?.clientName ?? id };
  }

  /** The hub session (dashboard, or "Sign in with <provider>" just now), when the browser has one. */
  async function sessionUser(request: FastifyRequest): Promise<string | undefined> {
    const id = parseCookies(request.headers.cookie)[SESSION_COOKIE];
    const principal = id ? await auth.sessions.resolve(id) : undefined;
    return principal?.kind === 'user' ? principal.id : undefined;
  }

  /** A form post must come from the hub's own page: SameSite cookies already ensure it; a foreign Origin is refused too. */
  function sameOrigin(request: FastifyRequest): boolean {
    const origin = request.headers.origin;
    if (origin === undefined || origin === 'null') return true;
    try {
      return new URL(origin).host === request.headers.host;
    } catch {
      return false;
    }
  }

  const ssoLink = (uid: string) =>
    auth.sso
      ? {
          displayName: auth.sso.login.provider.displayName,
          url: `/auth/oidc/login?return=${encodeURIComponent(`${INTERACTION_PATH}/${uid}`)}`,
        }
      : undefined;

  app.get(`${INTERACTION_PATH}/:uid`, async (request, reply) => {
    const interaction = await details(request, reply);
    if (!interaction) return reply;
    const client = await clientName(interaction);
    if (interaction.prompt.name === 'login') {
      // Signed in to the hub already (or just back from the provider): that is the login.
      const userId = await sessionUser(request);
      if (userId) return finish(request, reply, { login: { accountId: userId } });
      const ssoError = (request.query as { sso_error?: unknown }).sso_error;
      return html(
        reply,
        200,
        loginPage({
          uid: interaction.uid,
          clientName: client.name,
          sso: ssoLink(interaction.uid),
          error: typeof ssoError === 'string' ? ssoErrorText(ssoError) : undefined,
        }),
      );
    }
    if (interaction.prompt.name === 'consent') {
      const accountId = interaction.session?.accountId;
      const active = accountId ? await activeUser(core.store, accountId) : undefined;
      if (!active) return finish(request, reply, { error: 'access_denied', error_description: 'the user is disabled or removed' });
      const promptDetails = interaction.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      const scopes = [
        ...new Set([...(promptDetails.missingOIDCScope ?? []), ...Object.values(promptDetails.missingResourceScopes ?? {}).flat()]),
      ];
      const redirect = typeof interaction.params.redirect_uri === 'string' ? interaction.params.redirect_uri : '';
      let redirectHost = redirect;
      try {
        const url = new URL(redirect);
        redirectHost = url.host ? `${url.protocol}//${url.host}` : `${url.protocol}`;
      } catch {
        /* shown as given */
      }
      return html(
        reply,
        200,
        consentPage({
          uid: interaction.uid,
          userName: active.user.name,
          clientName: client.name,
          clientId: client.id,
          redirectHost,
          scopes,
        }),
      );
    }
    return html(reply, 400, errorPage('Unexpected step', `this hub does not handle the "${interaction.prompt.name}" step`));
  });

  app.post(`${INTERACTION_PATH}/:uid/login`, async (request, reply) => {
    if (!sameOrigin(request)) return html(reply, 403, errorPage('Refused', 'the form was posted from another site'));
    const interaction = await details(request, reply);
    if (!interaction) return reply;
    const body = (request.body ?? {}) as { user?: unknown; password?: unknown };
    const user = typeof body.user === 'string' ? body.user.slice(0, 200) : '';
    const password = typeof body.password === 'string' ? body.password.slice(0, 1000) : '';
    const ipKey = `ip:${request.ip}`;
    // Per user *and* address, as the dashboard login counts (routes/auth.ts): a guesser elsewhere must not lock the
    // admin out of OAuth sign-in by typing the admin's name; the per-address window bounds each guesser.
    const userKey = `user:${user.toLowerCase()}@${request.ip}`;
    const client = await clientName(interaction);
    const again = (error: string, status: number) =>
      html(reply, status, loginPage({ uid: interaction.uid, clientName: client.name, error, sso: ssoLink(interaction.uid) }));
    const wait = Math.max(...(await Promise.all([byIp.blockedFor(ipKey), byUser.blockedFor(userKey)])));
    if (wait > 0) {
      reply.header('retry-after', String(Math.ceil(wait / 1000)));
      return again(`Too many failed sign-ins; try again in ${Math.ceil(wait / 1000)} s.`, 429);
    }
    // Both comparisons always run, each over equal-length digests (as the dashboard's login does).
    const userOk = safeEqual(user, config.adminUser);
    const passwordOk = safeEqual(password, config.adminPassword);
    const record = await core.store.users.getByName(config.adminUser);
    if (!(userOk && passwordOk) || !record || !record.enabled) {
      await Promise.all([byIp.fail(ipKey), byUser.fail(userKey)]);
      await core.audit.append({
        action: 'login',
        actor: { kind: 'user', id: null, name: user.slice(0, 100) || null },
        clientId: client.id.slice(0, 200),
        status: 'denied',
        detail: `OAuth sign-in from ${request.ip}`,
      });
      return again('Wrong user or password.', 401);
    }
    await byUser.reset(userKey);
    await core.audit.append({
      action: 'login',
      actor: { kind: 'user', id: record.id, name: record.name },
      clientId: client.id.slice(0, 200),
      status: 'ok',
      detail: `OAuth sign-in from ${request.ip}`,
    });
    return finish(request, reply, { login: { accountId: record.id } });
  });

  app.post(`${INTERACTION_PATH}/:uid/consent`, async (request, reply) => {
    if (!sameOrigin(request)) return html(reply, 403, errorPage('Refused', 'the form was posted from another site'));
    const interaction = await details(request, reply);
    if (!interaction) return reply;
    if (interaction.prompt.name !== 'consent') return html(reply, 400, errorPage('Unexpected step', 'sign in first'));
    const accountId = interaction.session?.accountId;
    const active = accountId ? await activeUser(core.store, accountId) : undefined;
    const client = await clientName(interaction);
    const decision = (request.body as { decision?: unknown } | undefined)?.decision;
    const actor = { kind: 'user' as const, id: active?.user.id ?? null, name: active?.user.name ?? null };
    if (!active || decision !== 'allow') {
      await core.audit.append({
        action: 'oauth.consent',
        actor,
        clientId: client.id.slice(0, 200),
        status: 'denied',
        detail: active ? 'refused by the user' : 'user disabled or removed',
      });
      return finish(request, reply, { error: 'access_denied', error_description: 'the user did not allow access' });
    }
    const { provider } = await service.server();
    const grant = interaction.grantId
      ? ((await provider.Grant.find(interaction.grantId)) ?? new provider.Grant({ accountId: active.user.id, clientId: client.id }))
      : new provider.Grant({ accountId: active.user.id, clientId: client.id });
    const promptDetails = interaction.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (promptDetails.missingOIDCScope) grant.addOIDCScope(promptDetails.missingOIDCScope.join(' '));
    if (promptDetails.missingOIDCClaims) grant.addOIDCClaims(promptDetails.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(promptDetails.missingResourceScopes ?? {}))
      grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await core.audit.append({
      action: 'oauth.consent',
      actor,
      clientId: client.id.slice(0, 200),
      status: 'ok',
      params: { grantId, scopes: Object.values(promptDetails.missingResourceScopes ?? {}).flat() },
    });
    return finish(request, reply, { consent: { grantId } });
  });
}

function consentRoutes(app: FastifyInstance, service: OAuthService): void {
  const { core } = app;
  const staticNames = new Map(service.config.staticClients.map((c) => [c.client_id, c.client_name ?? c.client_id]));

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/oauth/consents',
      summary: 'Connected apps: the OAuth consents of the signed-in user (an admin key sees every user’s)',
      tag: 'oauth',
      auth: 'key-or-session',
      unauthenticatedMessage: 'Sign in first.',
      response: z.object({ consents: z.array(ConsentSchema) }),
    },
    async ({ principal }) => {
      // Every user's consents are hub-wide data: an unscoped admin key only (policy/scope.ts).
      const all = principal.kind === 'api_key' && principal.role === 'admin' && !isScoped(principal.policy);
      if (principal.kind !== 'user' && !all)
        throw new HubError('SONDE_ERR_FORBIDDEN', 'Consents belong to users: sign in, or use an admin key.');
      return { consents: await listConsents(core.store, all ? undefined : principal.id, staticNames) };
    },
  );

  defineRoute(
    app,
    {
      method: 'DELETE',
      url: '/api/v1/oauth/consents/:id',
      summary: 'Withdraws a consent: the client’s tokens for that user stop at once',
      tag: 'oauth',
      auth: 'key-or-session',
      unauthenticatedMessage: 'Sign in first.',
      params: z.object({ id: z.string().min(1).max(200) }),
      status: 204,
    },
    async ({ reply, params, principal }) => {
      // An unscoped admin withdraws anyone's consent; everyone else only their own (another's answers 404, as if absent).
      const mayAll = principal.role === 'admin' && !isScoped(principal.policy);
      await revokeConsent(
        core.store,
        core.audit,
        { kind: principal.kind, id: principal.id, name: principal.name },
        params.id,
        mayAll ? undefined : principal.id,
      );
      return reply.code(204).send();
    },
  );

  defineRoute(
    app,
    {
      method: 'DELETE',
      url: '/api/v1/oauth/clients/:clientId',
      summary: 'Removes an OAuth client (registered or remembered): every token, code and consent of it ends',
      tag: 'oauth',
      auth: 'admin',
      params: z.object({ clientId: z.string().min(1).max(2000) }),
      response: z.object({ removed: z.number() }),
    },
    async ({ params, principal }) => {
      const removed = await service.removeClient(params.clientId);
      await core.audit.append({
        action: 'oauth.client.remove',
        actor: { kind: principal.kind, id: principal.id, name: principal.name },
        clientId: params.clientId.slice(0, 200),
        status: 'ok',
        params: { records: removed },
      });
      return { removed };
    },
  );
}
