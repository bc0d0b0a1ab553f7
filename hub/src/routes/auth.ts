import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { parseCookies, SESSION_COOKIE, SESSION_TTL_MS, sessionCookie } from '../auth/sessions.js';
import { safeEqual } from '../crypto/index.js';
import { HubError } from '../errors.js';
import { defineRoute } from './define.js';

const LoginBody = z.object({ user: z.string().min(1).max(200), password: z.string().min(1).max(1000) }).strict();
const MeSchema = z.object({ kind: z.enum(['api_key', 'user']), id: z.string(), name: z.string(), role: z.enum(['admin', 'member']) });

/** Per IP: 10 failures per 15 minutes; per user name and IP: 5. Counted by every hub together (app.auth.limits). */
const WINDOW_MS = 15 * 60_000;
const AUDITED_REFUSALS_PER_MINUTE = 20;

export const authRoutes: FastifyPluginAsync = async (app) => {
  const { core, hubConfig: config, auth } = app;
  const { sessions } = auth;
  const byIp = auth.limits.window('login-ip', 10, WINDOW_MS);
  // Per account *and source*: a guesser locks itself out, never the admin signing in from elsewhere (issue 19).
  const byUser = auth.limits.window('login-user', 5, WINDOW_MS);
  // Refused logins audited per source and minute; beyond that they are counted and logged, so the audit cannot be flooded.
  const audited = auth.limits.window('login-audited', AUDITED_REFUSALS_PER_MINUTE, 60_000);

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/auth/login',
      summary: 'Local admin login (sets the session cookie)',
      tag: 'auth',
      auth: 'none',
      body: LoginBody,
      response: MeSchema,
    },
    async ({ body, request, reply }) => {
      const ipKey = `ip:${request.ip}`;
      const userKey = `user:${body.user.toLowerCase()}@${request.ip}`;
      const wait = Math.max(...(await Promise.all([byIp.blockedFor(ipKey), byUser.blockedFor(userKey)])));
      if (wait > 0) {
        reply.header('retry-after', String(Math.ceil(wait / 1000)));
        throw new HubError('SONDE_ERR_RATE_LIMITED', `Too many failed logins; try again in ${Math.ceil(wait / 1000)} s.`);
      }
      // Both comparisons always run (no short-circuit), each over equal-length SHA-256 digests.
      const userOk = safeEqual(body.user, config.adminUser);
      const passwordOk = safeEqual(body.password, config.adminPassword);
      const user = await core.store.users.getByName(config.adminUser);
      if (!(userOk && passwordOk) || !user || !user.enabled) {
        await Promise.all([byIp.fail(ipKey), byUser.fail(userKey)]);
        const auditedKey = `audit:${request.ip}`;
        if ((await audited.blockedFor(auditedKey)) > 0) {
          request.log.warn({ remote: request.ip }, 'login refused; not audited (more than the per-minute budget from this source)');
          throw new HubError('SONDE_ERR_LOGIN_FAILED');
        }
        await audited.fail(auditedKey);
        await core.audit.append({
          action: 'login',
          actor: { kind: 'user', id: null, name: body.user.slice(0, 100) },
          status: 'denied',
          detail: `from ${request.ip}`,
        });
        throw new HubError('SONDE_ERR_LOGIN_FAILED');
      }
      await byUser.reset(userKey);
      const session = await sessions.create(user.id);
      await core.audit.append({
        action: 'login',
        actor: { kind: 'user', id: user.id, name: user.name },
        status: 'ok',
        detail: `from ${request.ip}`,
      });
      reply.header('set-cookie', sessionCookie(session.id, { secure: auth.secureCookies, maxAgeS: SESSION_TTL_MS / 1000 }));
      return { kind: 'user' as const, id: user.id, name: user.name, role: user.role };
    },
  );

  defineRoute(
    app,
    { method: 'POST', url: '/api/v1/auth/logout', summary: 'Ends the session', tag: 'auth', auth: 'none', status: 204 },
    async ({ request, reply }) => {
      const id = parseCookies(request.headers.cookie)[SESSION_COOKIE];
      if (id) {
        const principal = await sessions.resolve(id);
        await sessions.destroy(id);
        if (principal)
          await core.audit.append({ action: 'logout', actor: { kind: 'user', id: principal.id, name: principal.name }, status: 'ok' });
      }
      reply.header('set-cookie', sessionCookie('', { secure: auth.secureCookies, maxAgeS: 0 }));
      return reply.code(204).send();
    },
  );

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/auth/me',
      summary: 'Who the caller is (API key or session)',
      tag: 'auth',
      auth: 'key-or-session',
      response: MeSchema,
    },
    ({ principal }) => ({ kind: principal.kind, id: principal.id, name: principal.name, role: principal.role }),
  );
  await Promise.resolve();
};
