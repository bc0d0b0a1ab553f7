import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseCookies, SESSION_COOKIE, SESSION_TTL_MS, sessionCookie } from '../auth/sessions.js';
import { HubError } from '../errors.js';
import { IdentityError } from '../identity/index.js';
import { defineRoute } from './define.js';

/** Binds a started sign-in to the browser that started it (the state alone could be fed to a victim's browser). */
export const BINDING_COOKIE = 'sonde_oidc';
/** Where a sign-in started from the OAuth login page returns (hub/src/oauth): an interaction path, nothing else. */
const RETURN_COOKIE = 'sonde_oidc_return';
const RETURN_PATTERN = /^\/oauth\/interaction\/[A-Za-z0-9_-]{1,64}$/;
const BINDING_PATH = '/auth/oidc';

const ProvidersSchema = z.object({
  /** The local admin login (SONDE_ADMIN_USER / SONDE_ADMIN_PASSWORD) always works. */
  local: z.object({ enabled: z.boolean(), url: z.string() }),
  /** Single sign-on, when configured: the dashboard shows "Sign in with <displayName>" linking to loginUrl. */
  sso: z
    .object({
      kind: z.enum(['entra', 'oidc']),
      displayName: z.string(),
      loginUrl: z.string(),
      logoutUrl: z.string(),
    })
    .nullable(),
});

function bindingCookie(value: string, options: { secure: boolean; maxAgeS: number }, name = BINDING_COOKIE): string {
  return [
    `${name}=${value}`,
    `Path=${BINDING_PATH}`,
    'HttpOnly',
    // Lax: the provider's redirect back is a top-level GET navigation, which carries Lax cookies.
    'SameSite=Lax',
    `Max-Age=${options.maxAgeS}`,
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}

/**
 * Browser sign-in through the configured OpenID Connect provider (hub/src/identity):
 * `/auth/oidc/login` redirects to the provider, `/auth/oidc/callback` ends on the
 * dashboard with a session or with `?sso_error=<code>`, `/auth/oidc/logout` ends
 * the session here and at the provider. These are navigations, not REST calls.
 */
export const oidcRoutes: FastifyPluginAsync = async (app) => {
  const { core, auth, sonde } = app;
  const { sessions, sso } = auth;
  const starts = auth.limits.window('oidc-start', 30, 60_000);
  const home = () => `${sonde.config.publicUrl}/`;
  const failTo = (reply: FastifyReply, code: string) => reply.redirect(`${home()}?sso_error=${encodeURIComponent(code)}`, 302);

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/auth/providers',
      summary: 'How users can sign in (for the login page)',
      tag: 'auth',
      auth: 'none',
      response: ProvidersSchema,
    },
    () => ({
      local: { enabled: true, url: '/api/v1/auth/login' },
      sso: sso
        ? {
            kind: sso.login.provider.kind,
            displayName: sso.login.provider.displayName,
            loginUrl: `${BINDING_PATH}/login`,
            logoutUrl: `${BINDING_PATH}/logout`,
          }
        : null,
    }),
  );

  app.get(`${BINDING_PATH}/login`, async (request: FastifyRequest, reply: FastifyReply) => {
    if (!sso) return failTo(reply, 'SONDE_ERR_OIDC_DISABLED');
    // Each start stores a row for 10 minutes: an address may start 30 a minute, plenty for people, not for a flood.
    const wait = await starts.blockedFor(request.ip);
    if (wait > 0) {
      reply.header('retry-after', String(Math.ceil(wait / 1000)));
      throw new HubError('SONDE_ERR_RATE_LIMITED', `Too many sign-ins started; try again in ${Math.ceil(wait / 1000)} s.`);
    }
    await starts.fail(request.ip);
    try {
      const { authorizationUrl, binding } = await sso.login.begin();
      const back = (request.query as { return?: unknown }).return;
      const cookies = [bindingCookie(binding, { secure: auth.secureCookies, maxAgeS: 600 })];
      if (typeof back === 'string' && RETURN_PATTERN.test(back))
        cookies.push(bindingCookie(back, { secure: auth.secureCookies, maxAgeS: 600 }, RETURN_COOKIE));
      reply.header('set-cookie', cookies);
      reply.header('cache-control', 'no-store');
      return reply.redirect(authorizationUrl, 302);
    } catch (error) {
      if (!(error instanceof IdentityError)) throw error;
      request.log.warn({ code: error.code }, error.detail);
      await core.audit.append({
        action: 'login.sso',
        actor: { kind: 'user', id: null, name: null },
        status: 'error',
        params: { outcome: 'config_error', code: error.code },
        detail: `${error.detail} (from ${request.ip})`,
      });
      return failTo(reply, error.code);
    }
  });

  app.get(`${BINDING_PATH}/callback`, async (request: FastifyRequest, reply: FastifyReply) => {
    if (!sso) return failTo(reply, 'SONDE_ERR_OIDC_DISABLED');
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
    const binding = parseCookies(request.headers.cookie)[BINDING_COOKIE];
    const outcome = await sso.signIn.finish(query, binding, request.ip);
    reply.header('cache-control', 'no-store');
    const cookies = [bindingCookie('', { secure: auth.secureCookies, maxAgeS: 0 })];
    const back = parseCookies(request.headers.cookie)[RETURN_COOKIE];
    if (back !== undefined) cookies.push(bindingCookie('', { secure: auth.secureCookies, maxAgeS: 0 }, RETURN_COOKIE));
    if (!outcome.ok) {
      reply.header('set-cookie', cookies);
      // A sign-in started from the OAuth login page goes back there, which says why.
      if (back && RETURN_PATTERN.test(back))
        return reply.redirect(`${sonde.config.publicUrl}${back}?sso_error=${encodeURIComponent(outcome.code)}`, 302);
      return failTo(reply, outcome.code);
    }
    cookies.push(sessionCookie(outcome.session.id, { secure: auth.secureCookies, maxAgeS: SESSION_TTL_MS / 1000 }));
    reply.header('set-cookie', cookies);
    // Back to the OAuth login that sent the browser here, which now sees the session.
    if (back && RETURN_PATTERN.test(back)) return reply.redirect(`${sonde.config.publicUrl}${back}`, 302);
    return reply.redirect(home(), 302);
  });

  app.get(`${BINDING_PATH}/logout`, async (request: FastifyRequest, reply: FastifyReply) => {
    const id = parseCookies(request.headers.cookie)[SESSION_COOKIE];
    if (id) {
      const principal = await sessions.resolve(id);
      await sessions.destroy(id);
      if (principal)
        await core.audit.append({
          action: 'logout',
          actor: { kind: 'user', id: principal.id, name: principal.name },
          status: 'ok',
          params: { sso: Boolean(sso) },
        });
    }
    reply.header('set-cookie', sessionCookie('', { secure: auth.secureCookies, maxAgeS: 0 }));
    reply.header('cache-control', 'no-store');
    const endSession = sso ? await sso.login.endSessionUrl() : undefined;
    return reply.redirect(endSession ?? home(), 302);
  });
  await Promise.resolve();
};
