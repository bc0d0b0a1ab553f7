import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedTokens } from '../src/embed/tokens.js';
import { makeCsr, startTestHub, type TestHub } from './helpers.js';
import { openSse } from './support/sse.js';

/**
 * Embed tokens try to do more than they were minted for: write, read admin
 * routes, read agents outside their globs, be used from another page origin,
 * outlive their lifetime, be forged. Each attempt gets 401/403/404.
 */
const PORTAL = 'https://portal.example.com';
const OTHER_ALLOWED = 'http://intranet.example.com:8080';
let hub: TestHub;
let base: string;

beforeAll(async () => {
  hub = await startTestHub({ SONDE_EMBED_ORIGINS: `${PORTAL}, ${OTHER_ALLOWED}` });
  await hub.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(hub.app.server.address() as AddressInfo).port}`;
  for (const name of ['web-1', 'web-2', 'db-1']) await enroll(name);
});
afterAll(async () => {
  await hub?.close();
});

async function enroll(name: string): Promise<void> {
  const token = await hub.app.inject({ method: 'POST', url: '/api/v1/enrollment-tokens', headers: hub.auth(), payload: {} });
  const res = await hub.app.inject({
    method: 'POST',
    url: '/api/v1/enroll',
    headers: { authorization: `Bearer ${token.json<{ token: string }>().token}` },
    payload: { name, csrPem: makeCsr(name), agentVersion: '0.1.0' },
  });
  expect(res.statusCode).toBe(201);
}

async function mint(body: Record<string, unknown>, key = hub.adminKey) {
  return hub.app.inject({ method: 'POST', url: '/api/v1/embed-tokens', headers: hub.auth(key), payload: body });
}

async function webToken(extra: Record<string, unknown> = {}): Promise<string> {
  const res = await mint({ agents: ['web-*'], origins: [PORTAL], ...extra });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ token: string }>().token;
}

const names = (body: unknown): string[] => (body as Array<{ name: string }>).map((a) => a.name).sort();

describe('POST /api/v1/embed-tokens', () => {
  it('mints a read-only token for configured origins only, at most 24 h, admin only, audited', async () => {
    const res = await mint({ agents: ['web-*'], origins: [PORTAL], ttlSeconds: 600 });
    expect(res.statusCode).toBe(201);
    const body = res.json<{ token: string; expiresAt: string; views: string[]; origins: string[] }>();
    expect(body.token).toMatch(/^sonde_embed_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(body.views).toEqual(['fleet', 'agent', 'health-badge', 'trends']);
    expect(Date.parse(body.expiresAt) - Date.now()).toBeLessThanOrEqual(600_000);
    const audit = await hub.app.inject({ method: 'GET', url: '/api/v1/audit?tool=embed_token.create', headers: hub.auth() });
    expect(audit.json<{ entries: Array<{ params: { origins: string[] } }> }>().entries[0]?.params.origins).toEqual([PORTAL]);

    expect((await mint({ origins: ['https://evil.example'] })).statusCode).toBe(400);
    expect((await mint({ origins: [`${PORTAL}/path`] })).statusCode).toBe(400);
    expect((await mint({ origins: [PORTAL], ttlSeconds: 24 * 3600 + 1 })).statusCode).toBe(400);
    expect((await mint({ origins: [PORTAL], readOnly: false })).statusCode).toBe(400);
    expect((await mint({ origins: [PORTAL], agents: ['web-[0-9]'] })).statusCode).toBe(400);
    expect((await mint({ origins: [PORTAL] }, hub.memberKey)).statusCode).toBe(403);
    expect((await hub.app.inject({ method: 'POST', url: '/api/v1/embed-tokens', payload: { origins: [PORTAL] } })).statusCode).toBe(401);
  });

  it('is refused while SONDE_EMBED_ORIGINS is empty, and /embed/* does not exist then', async () => {
    const bare = await startTestHub();
    try {
      const res = await bare.app.inject({
        method: 'POST',
        url: '/api/v1/embed-tokens',
        headers: bare.auth(),
        payload: { origins: [PORTAL] },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json<{ error: { message: string } }>().error.message).toContain('SONDE_EMBED_ORIGINS');
      expect((await bare.app.inject({ method: 'GET', url: '/embed/fleet' })).statusCode).toBe(404);
    } finally {
      await bare.close();
    }
  });
});

describe('what an embed token can do', () => {
  it('reads only the agents its globs cover; another agent is not found', async () => {
    const token = await webToken();
    const auth = { authorization: `Bearer ${token}` };
    const list = await hub.app.inject({ method: 'GET', url: '/api/v1/embed/agents', headers: auth });
    expect(list.statusCode).toBe(200);
    expect(names(list.json())).toEqual(['web-1', 'web-2']);
    expect((await hub.app.inject({ method: 'GET', url: '/api/v1/embed/agents/web-1', headers: auth })).statusCode).toBe(200);
    const outside = await hub.app.inject({ method: 'GET', url: '/api/v1/embed/agents/db-1', headers: auth });
    expect(outside.statusCode).toBe(404);
    expect((await hub.app.inject({ method: 'GET', url: '/api/v1/embed/agents/nope', headers: auth })).body).toBe(outside.body);
  });

  it('cannot write or read any other route (401: it is no API key)', async () => {
    const auth = { authorization: `Bearer ${await webToken()}` };
    for (const [method, url, payload] of [
      ['GET', '/api/v1/agents', undefined],
      ['GET', '/api/v1/agents/web-1', undefined],
      ['GET', '/api/v1/audit', undefined],
      ['GET', '/api/v1/events', undefined],
      ['GET', '/api/v1/api-keys', undefined],
      ['GET', '/api/v1/auth/me', undefined],
      ['POST', '/api/v1/api-keys', { name: 'x', role: 'admin' }],
      ['POST', '/api/v1/embed-tokens', { origins: [PORTAL] }],
      ['POST', '/api/v1/agents/web-1/packs/system/approve', { version: '1.0.0', permissionsSha256: 'a'.repeat(64) }],
      ['DELETE', '/api/v1/agents/web-1', undefined],
      ['POST', '/api/v1/revocations', { package: 'x', versions: ['1.0.0'] }],
      ['POST', '/api/v1/probes', { agent: 'web-1', probe: 'system.disk.usage', params: {} }],
    ] as const) {
      const res = await hub.app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
    }
    expect((await hub.app.inject({ method: 'GET', url: '/api/v1/agents' })).statusCode).toBe(401);
  });

  it('opens only the views it names', async () => {
    const badgeOnly = { authorization: `Bearer ${await webToken({ views: ['health-badge'] })}` };
    expect((await hub.app.inject({ method: 'GET', url: '/api/v1/embed/agents', headers: badgeOnly })).statusCode).toBe(200);
    expect((await hub.app.inject({ method: 'GET', url: '/api/v1/embed/agents/web-1', headers: badgeOnly })).statusCode).toBe(403);
  });

  it('refuses expired, forged and tampered tokens, and tokens from another hub secret', async () => {
    const key = hub.app.core.crypto.mcpSessionKey;
    const scope = { views: ['fleet'] as const, agents: ['*'], origins: [PORTAL], ttlSeconds: 60, readOnly: true as const };
    const expired = createEmbedTokens(key).mint({ ...scope, views: ['fleet'] }, 'test', Date.now() - 120_000).token;
    const foreign = createEmbedTokens(Buffer.alloc(32, 7)).mint({ ...scope, views: ['fleet'] }, 'test').token;
    const good = await webToken();
    const [payload, signature] = good.slice('sonde_embed_'.length).split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { agents: string[] };
    claims.agents = ['*'];
    const widened = `sonde_embed_${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    for (const token of [expired, foreign, widened, `${good}x`, 'sonde_embed_', `${good}.extra`]) {
      const res = await hub.app.inject({ method: 'GET', url: '/api/v1/embed/agents', headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode, token.slice(0, 30)).toBe(401);
    }
  });

  it('serves CORS to the configured origins only, never with credentials; a token works only from its own pages', async () => {
    const token = await webToken();
    const pre = (origin: string) =>
      hub.app.inject({
        method: 'OPTIONS',
        url: '/api/v1/embed/agents',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
    const ok = await pre(PORTAL);
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe(PORTAL);
    expect(ok.headers['access-control-allow-headers']).toContain('authorization');
    expect(ok.headers['access-control-allow-credentials']).toBeUndefined();
    const evil = await pre('https://evil.example');
    expect(evil.statusCode).toBe(403);
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();

    const get = (origin: string) =>
      hub.app.inject({ method: 'GET', url: '/api/v1/embed/agents', headers: { origin, authorization: `Bearer ${token}` } });
    const fromPortal = await get(PORTAL);
    expect(fromPortal.statusCode).toBe(200);
    expect(fromPortal.headers['access-control-allow-origin']).toBe(PORTAL);
    // Allowed to embed, but not a page this token was minted for.
    expect((await get(OTHER_ALLOWED)).statusCode).toBe(403);
    const fromEvil = await get('https://evil.example');
    expect(fromEvil.statusCode).toBe(403);
    expect(fromEvil.headers['access-control-allow-origin']).toBeUndefined();
    // The bundle, for script mode: fetched with CORS by module scripts.
    const js = await hub.app.inject({ method: 'GET', url: '/ui/sonde.js', headers: { origin: PORTAL } });
    expect(js.headers['access-control-allow-origin']).toBe(PORTAL);
    expect(
      (await hub.app.inject({ method: 'GET', url: '/ui/sonde.js', headers: { origin: 'https://evil.example' } })).headers,
    ).not.toHaveProperty('access-control-allow-origin');
  });

  it('streams only its agents and no audit entries', async () => {
    const s = await openSse(`${base}/api/v1/embed/events`, { authorization: `Bearer ${await webToken()}`, origin: PORTAL });
    try {
      expect(s.status).toBe(200);
      expect(s.headers.get('access-control-allow-origin')).toBe(PORTAL);
      const snapshot = await s.next((e) => e.event === 'snapshot');
      expect(names((snapshot.data as { agents: unknown }).agents)).toEqual(['web-1', 'web-2']);
      expect((snapshot.data as { auditSeq: unknown }).auditSeq).toBeNull();
      await enroll('db-2');
      await enroll('web-3');
      const added = await s.next((e) => e.event === 'agent');
      expect((added.data as { agent: { name: string } }).agent.name).toBe('web-3');
      expect(s.events.map((e) => e.event)).toEqual(['snapshot', 'agent']);
    } finally {
      s.close();
    }
  });
});

describe('GET /embed/<view> (iframe mode)', () => {
  it('is framable only by the configured origins and carries no token', async () => {
    const res = await hub.app.inject({ method: 'GET', url: '/embed/fleet' });
    expect(res.statusCode).toBe(200);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain(`frame-ancestors ${PORTAL} ${OTHER_ALLOWED}`);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.body).toContain('data-sonde-view="fleet"');
    expect(res.body).toContain('/ui/embed.js');
    expect(res.body).not.toContain('sonde_embed_');
    expect((await hub.app.inject({ method: 'GET', url: '/embed/api-keys' })).statusCode).toBe(404);
    expect((await hub.app.inject({ method: 'GET', url: '/embed/%22%3E%3Cscript%3E' })).statusCode).toBe(404);
  });
});
