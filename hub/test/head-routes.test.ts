import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answersHead } from '../src/plugins/head-routes.js';
import { startTestHub, type TestHub } from './helpers.js';

// HEAD answers only where load balancers, browsers and discovery clients send it (hub/src/plugins/head-routes.ts).
const PORTAL = 'https://portal.example.com';

/** The paths that answer HEAD, each as its GET answers 200 on this hub. */
const HEAD_PATHS = [
  '/api/v1/health',
  '/api/v1/ready',
  '/metrics',
  '/',
  '/ui/index.js',
  '/embed/fleet',
  '/.well-known/oauth-protected-resource',
  '/.well-known/oauth-protected-resource/mcp',
  '/.well-known/oauth-authorization-server',
  '/.well-known/openid-configuration',
];
/** Bodies that change between two requests (uptime, counters): their length may too. */
const CHANGING_BODIES = new Set(['/api/v1/health', '/api/v1/ready', '/metrics']);

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub({ SONDE_EMBED_ORIGINS: PORTAL });
}, 60_000);
afterAll(() => hub?.close());

const withoutDate = (headers: Record<string, unknown>, path: string): Record<string, unknown> => {
  const { date: _date, 'content-length': length, ...rest } = headers;
  return CHANGING_BODIES.has(path) ? rest : { ...rest, 'content-length': length };
};

describe('HEAD', () => {
  it.each(HEAD_PATHS)('%s answers HEAD with 200, no body and the headers of its GET', async (path) => {
    const get = await hub.app.inject({ method: 'GET', url: path });
    expect(get.statusCode).toBe(200);
    const head = await hub.app.inject({ method: 'HEAD', url: path });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    expect(withoutDate(head.headers, path)).toEqual(withoutDate(get.headers, path));
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
  });

  it('a REST read under /api/ has no HEAD twin: 404 with the hub error code, whoever asks, and the route does not run', async () => {
    for (const path of ['/api/v1/agents', '/api/v1/audit', '/api/v1/api-keys', '/api/v1/openapi.json', '/api/v1/events']) {
      for (const headers of [{}, hub.auth()]) {
        const head = await hub.app.inject({ method: 'HEAD', url: path, headers });
        expect(head.statusCode, path).toBe(404);
        expect(head.body).toBe('');
        expect(head.headers['content-type']).toContain('application/json');
      }
      // The same read by GET still answers: only HEAD is gone (the event stream's GET would hold the stream open).
      if (path !== '/api/v1/events')
        expect((await hub.app.inject({ method: 'GET', url: path, headers: hub.auth() })).statusCode, path).toBe(200);
    }
    // What the 404 says, seen through a GET of a path that does not exist (a HEAD response carries no body).
    const missing = await hub.app.inject({ method: 'GET', url: '/api/v1/no-such-read' });
    expect(missing.json<{ error: { code: string } }>().error.code).toBe('SONDE_ERR_NOT_FOUND');
  });

  it('sign-in redirects, OAuth interactions and /mcp do not answer HEAD (a HEAD must not start a flow)', async () => {
    for (const path of ['/auth/oidc/login', '/oauth/interaction/abc', '/mcp']) {
      expect((await hub.app.inject({ method: 'HEAD', url: path })).statusCode, path).toBe(404);
    }
  });

  it('every GET route the OpenAPI document lists answers HEAD only if it is health or readiness', () => {
    const reads = hub.app.api.routes.filter((route) => route.method === 'GET').map((route) => route.url);
    expect(reads.length).toBeGreaterThan(20);
    const withHead = reads.filter((url) => hub.app.hasRoute({ method: 'HEAD', url }));
    expect(withHead.sort()).toEqual(['/api/v1/health', '/api/v1/ready']);
    expect(reads.filter(answersHead).sort()).toEqual(['/api/v1/health', '/api/v1/ready']);
  });
});
