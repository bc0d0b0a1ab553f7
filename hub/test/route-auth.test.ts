import path from 'node:path';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { startTestHub, tempDir, testConfig, type TestHub } from './helpers.js';

const tmp = tempDir('sonde-route-auth-');
afterAll(() => tmp.cleanup());

/** A real hub with one more area registered after its own, as a new route module would be. */
async function hubWith(name: string, area: FastifyPluginAsync): Promise<FastifyInstance> {
  return await buildApp(testConfig(path.join(tmp.dir, `${name}.db`)), { logger: false, areas: [area] });
}

describe('every REST route authenticates in its own onRequest hook (hub/src/auth/route-auth.ts)', () => {
  it('a route under /api/ that declares no authentication stops the hub from starting', async () => {
    await expect(
      hubWith('forgot', async (app) => {
        app.get('/api/v1/forgot', () => ({ everything: true }));
        await Promise.resolve();
      }),
    ).rejects.toThrow('GET /api/v1/forgot declares no authentication: REST routes are declared with defineRoute');
    await expect(
      hubWith('typo', async (app) => {
        app.route({ method: 'POST', url: '/api/v1/typo', config: { auth: 'admn' as never }, handler: () => null });
        await Promise.resolve();
      }),
    ).rejects.toThrow('POST /api/v1/typo declares no authentication it knows ("admn")');
    await expect(
      hubWith('viewless', async (app) => {
        app.get('/api/v1/embed/viewless', { config: { auth: 'embed-token' } }, () => ({ everything: true }));
        await Promise.resolve();
      }),
    ).rejects.toThrow('GET /api/v1/embed/viewless declares auth "embed-token" without the views it serves (config.embedViews)');
  }, 60_000);

  it('the declaration alone protects a route, whoever registers it: the handler sees the principal, HEAD is guarded too', async () => {
    const app = await hubWith('declared', async (area) => {
      // With a HEAD twin, which the hub gives no REST route (plugins/head-routes.ts) but a route may still ask for.
      area.get('/api/v1/declared', { config: { auth: 'admin' }, exposeHeadRoute: true }, (request) => ({
        who: request.principal?.name ?? null,
      }));
      await Promise.resolve();
    });
    try {
      await app.ready();
      const admin = (await app.core.apiKeys.create({ name: 'declared-admin', role: 'admin' })).rawKey;
      const member = (await app.core.apiKeys.create({ name: 'declared-member', role: 'member' })).rawKey;
      const get = (headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') =>
        app.inject({ method, url: '/api/v1/declared', headers });
      const none = await get();
      expect(none.statusCode).toBe(401);
      expect(none.json().error.code).toBe('SONDE_ERR_UNAUTHORIZED');
      expect((await get({ authorization: `Bearer ${member}` })).statusCode).toBe(403);
      expect((await get({}, 'HEAD')).statusCode).toBe(401);
      expect((await get({ authorization: `Bearer ${admin}` }, 'HEAD')).statusCode).toBe(200);
      const ok = await get({ authorization: `Bearer ${admin}` });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toEqual({ who: 'declared-admin' });
    } finally {
      await app.close();
    }
  }, 60_000);

  it("'key-or-session': any user key or a session reaches the handler as request.principal; neither is a 401 before the body", async () => {
    const seen: string[] = [];
    const app = await hubWith('key-or-session', async (area) => {
      area.delete('/api/v1/whoami', { config: { auth: 'key-or-session' } }, (request) => {
        seen.push(request.principal?.name ?? 'nobody');
        return { kind: request.principal?.kind ?? null, who: request.principal?.name ?? null };
      });
      // Its own HEAD copy (the hub makes none for /api/ reads since 19b25b5), so the HEAD twin's authentication is tested.
      area.get(
        '/api/v1/whoami',
        { config: { auth: 'key-or-session', unauthenticatedMessage: 'Sign in first.' }, exposeHeadRoute: true },
        (request) => ({
          who: request.principal?.name ?? null,
        }),
      );
      await Promise.resolve();
    });
    try {
      await app.ready();
      const member = (await app.core.apiKeys.create({ name: 'who-member', role: 'member' })).rawKey;
      const scoped = (await app.core.apiKeys.create({ name: 'who-scoped', role: 'admin', policy: { allowedAgents: ['web-*'] } })).rawKey;
      const user = await app.core.store.users.getByName(app.hubConfig.adminUser);
      const cookie = `sonde_session=${(await app.auth.sessions.create(user!.id)).id}`;
      const del = (headers: Record<string, string>, payload = '{"malformed": ') =>
        app.inject({ method: 'DELETE', url: '/api/v1/whoami', payload, headers: { 'content-type': 'application/json', ...headers } });

      const none = await del({});
      expect(none.statusCode).toBe(401);
      expect(none.json().error).toEqual({
        code: 'SONDE_ERR_UNAUTHORIZED',
        message: 'Authentication required: send an admin API key as a Bearer token or log in.',
      });
      // The route's own words for a caller with no credential, on its HEAD twin too.
      const get = await app.inject({ method: 'GET', url: '/api/v1/whoami' });
      expect(get.json().error).toEqual({ code: 'SONDE_ERR_UNAUTHORIZED', message: 'Sign in first.' });
      expect((await app.inject({ method: 'HEAD', url: '/api/v1/whoami' })).statusCode).toBe(401);
      // A credential that is there but wrong is refused as on every other route.
      expect((await del({ authorization: 'Bearer sonde_unknown' })).json().error.message).toBe(
        'The API key is unknown, revoked or not a user key.',
      );
      expect((await del({ cookie })).json().error.code).toBe('SONDE_ERR_CSRF');
      expect(seen).toEqual([]);

      // Past the hook, the body is looked at: malformed is a 400 for a caller who is known.
      expect((await del({ authorization: `Bearer ${member}` })).statusCode).toBe(400);
      const asMember = await del({ authorization: `Bearer ${member}` }, '{}');
      expect(asMember.statusCode).toBe(200);
      expect(asMember.json()).toEqual({ kind: 'api_key', who: 'who-member' });
      // A scoped key is not refused by the kind: what it may do is the route's to decide.
      expect((await del({ authorization: `Bearer ${scoped}` }, '{}')).json()).toEqual({ kind: 'api_key', who: 'who-scoped' });
      expect((await del({ cookie, 'x-sonde-csrf': '1' }, '{}')).json()).toEqual({ kind: 'user', who: user!.name });
      expect(seen).toEqual(['who-member', 'who-scoped', user!.name]);
    } finally {
      await app.close();
    }
  }, 60_000);
});

describe('authentication runs before the body is parsed or validated', () => {
  let hub: TestHub;
  let scoped: string;
  beforeAll(async () => {
    hub = await startTestHub();
    scoped = (await hub.app.core.apiKeys.create({ name: 'web-admin', role: 'admin', policy: { allowedAgents: ['web-*'] } })).rawKey;
  }, 60_000);
  afterAll(() => hub?.close());

  const post = (url: string, payload: string, headers: Record<string, string> = {}) =>
    hub.app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json', ...headers } });

  it('an unauthenticated request with a malformed or oversized body gets 401, not 400 or 413', async () => {
    const malformed = await post('/api/v1/api-keys', '{"name": ');
    expect(malformed.statusCode).toBe(401);
    expect(malformed.json().error.code).toBe('SONDE_ERR_UNAUTHORIZED');
    // Past the 256 KiB body limit: refused before the body would be read.
    const oversized = await post('/api/v1/api-keys', JSON.stringify({ name: 'x'.repeat(300 * 1024) }));
    expect(oversized.statusCode).toBe(401);
    // A body that parses but does not match the schema: still the missing credential first.
    expect((await post('/api/v1/api-keys', '{"unexpected": true}')).statusCode).toBe(401);
    // A user's own keys take a session: without one 401, with an API key 403, both before the body.
    const mine = await post('/api/v1/me/keys', '{"name": ');
    expect(mine.statusCode).toBe(401);
    expect(mine.json().error.message).toBe('Sign in first: your own keys are managed from a browser session.');
    expect((await post('/api/v1/me/keys', '{"name": ', hub.auth())).statusCode).toBe(403);
  });

  it('a member, or a scoped key on a hub-wide route, is refused before its body is looked at', async () => {
    const member = await post('/api/v1/api-keys', '{"name": ', hub.auth(hub.memberKey));
    expect(member.statusCode).toBe(403);
    expect(member.json().error.code).toBe('SONDE_ERR_FORBIDDEN');
    const wide = await post('/api/v1/revocations', '{"keys": ', hub.auth(scoped));
    expect(wide.statusCode).toBe(403);
    expect(wide.json().error.message).toContain('POST /api/v1/revocations acts on the whole hub');
  });

  it('with a valid admin key the same body is a 400, and an enrollment without a token a 401', async () => {
    const malformed = await post('/api/v1/api-keys', '{"name": ', hub.auth());
    expect(malformed.statusCode).toBe(400);
    const enroll = await post('/api/v1/enroll', '{"csrPem": ');
    expect(enroll.statusCode).toBe(401);
    expect(enroll.json().error.code).toBe('SONDE_ERR_TOKEN_INVALID');
    // Renewal over plain HTTP: no client certificate, refused before the body.
    const renew = await post('/api/v1/agents/renew', '{"csrPem": ');
    expect(renew.statusCode).toBe(401);
    expect(renew.json().error.code).toBe('SONDE_ERR_CLIENT_CERT_REQUIRED');
  });

  it('auth/me and the OAuth consents take a key or a session in their hook: no credential is a 401 before the body', async () => {
    const me = await hub.app.inject({ method: 'GET', url: '/api/v1/auth/me' });
    expect(me.statusCode).toBe(401);
    expect(me.json().error).toEqual({
      code: 'SONDE_ERR_UNAUTHORIZED',
      message: 'Authentication required: send an admin API key as a Bearer token or log in.',
    });
    const withdraw = (headers: Record<string, string> = {}) =>
      hub.app.inject({
        method: 'DELETE',
        url: '/api/v1/oauth/consents/some-id',
        payload: '{"malformed": ',
        headers: { 'content-type': 'application/json', ...headers },
      });
    // A malformed body: the missing credential first, not the parser's 400.
    for (const refused of [await hub.app.inject({ method: 'GET', url: '/api/v1/oauth/consents' }), await withdraw()]) {
      expect(refused.statusCode).toBe(401);
      expect(refused.json().error).toEqual({ code: 'SONDE_ERR_UNAUTHORIZED', message: 'Sign in first.' });
    }
    // With a key the same requests reach the route: the body is parsed, and a member has no one's consents to list.
    expect((await withdraw(hub.auth(hub.memberKey))).statusCode).toBe(400);
    const list = await hub.app.inject({ method: 'GET', url: '/api/v1/oauth/consents', headers: hub.auth(hub.memberKey) });
    expect(list.statusCode).toBe(403);
    expect(list.json().error.message).toBe('Consents belong to users: sign in, or use an admin key.');
    const who = await hub.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: hub.auth(scoped) });
    expect(who.json()).toMatchObject({ kind: 'api_key', name: 'web-admin', role: 'admin' });
  });

  it('an embed route checks its token before its query: no token 401, an admin key is not an embed token', async () => {
    const bad = '/api/v1/embed/probe-calls?limit=not-a-number&from=yesterday';
    const none = await hub.app.inject({ method: 'GET', url: bad });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.message).toBe('An embed token is required (unknown, malformed or expired).');
    expect((await hub.app.inject({ method: 'GET', url: bad, headers: hub.auth() })).statusCode).toBe(401);
    // The event stream too: refused in the hook, before the handler would open a stream.
    expect((await hub.app.inject({ method: 'GET', url: '/api/v1/embed/events' })).statusCode).toBe(401);
  });
});
