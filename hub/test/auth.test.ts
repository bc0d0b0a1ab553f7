import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/crypto/index.js';
import { openStoreBackdoor } from '../src/store/testing.js';
import { ADMIN_PASSWORD, ADMIN_USER, startTestHub, type TestHub } from './helpers.js';

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.close());

function login(user: string, password: string, ip = '10.0.0.1') {
  return hub.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { user, password }, remoteAddress: ip });
}

function sessionOf(setCookie: string | string[] | undefined): string {
  const header = Array.isArray(setCookie) ? setCookie[0] : setCookie!;
  return header.split(';')[0];
}

describe('local admin login and sessions', () => {
  it('sets an httpOnly SameSite=Lax 8 h cookie with a 256-bit id, stores only its hash, and authorises REST', async () => {
    const res = await login(ADMIN_USER, ADMIN_PASSWORD);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ kind: 'user', name: ADMIN_USER, role: 'admin' });
    const header = res.headers['set-cookie'] as string;
    expect(header).toMatch(/^sonde_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=28800$/);
    const cookie = sessionOf(header);
    const id = cookie.split('=')[1];
    const backdoor = await openStoreBackdoor(hub.config.dbPath);
    const stored = await backdoor.dumpText();
    await backdoor.close();
    expect(stored).toContain(sha256Hex(id));
    expect(stored).not.toContain(id);
    const agents = await hub.app.inject({ method: 'GET', url: '/api/v1/agents', headers: { cookie } });
    expect(agents.statusCode).toBe(200);
    const me = await hub.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } });
    expect(me.json()).toMatchObject({ kind: 'user', name: ADMIN_USER });
  });

  it('refuses a cross-site state change carried by the session cookie', async () => {
    const cookie = sessionOf((await login(ADMIN_USER, ADMIN_PASSWORD)).headers['set-cookie']);
    const res = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { cookie, origin: 'https://evil.example', host: 'hub.local' },
      payload: { name: 'x', role: 'admin' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('SONDE_ERR_CSRF');
    const same = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { cookie, origin: 'http://hub.local', host: 'hub.local', 'x-sonde-csrf': '1' },
      payload: { name: 'x', role: 'admin' },
    });
    expect(same.statusCode).toBe(201);
  });

  it('refuses a cookie-authenticated change without the x-sonde-csrf header, on every kind of route; Bearer keys need none', async () => {
    const cookie = sessionOf((await login(ADMIN_USER, ADMIN_PASSWORD)).headers['set-cookie']);
    const before = (await hub.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: { cookie } })).json<unknown[]>().length;
    // Same origin (or none at all, as a same-site form may arrive), cookie valid: still refused without the header.
    for (const headers of [{ cookie }, { cookie, origin: 'http://hub.local', host: 'hub.local' }]) {
      for (const [method, url, payload] of [
        ['POST', '/api/v1/api-keys', { name: 'csrf', role: 'admin' }],
        ['POST', '/api/v1/enrollment-tokens', {}],
        ['POST', '/api/v1/me/keys', { name: 'csrf' }],
        ['DELETE', '/api/v1/agents/nobody', undefined],
      ] as const) {
        const res = await hub.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
        expect(res.statusCode, `${method} ${url}`).toBe(403);
        expect(res.json().error.code).toBe('SONDE_ERR_CSRF');
      }
    }
    expect((await hub.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: { cookie } })).json<unknown[]>()).toHaveLength(before);
    // Reads with the cookie need no header; a Bearer key needs none for a change either (scripts and CLIs).
    expect((await hub.app.inject({ method: 'GET', url: '/api/v1/agents', headers: { cookie } })).statusCode).toBe(200);
    const keyed = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { authorization: `Bearer ${hub.adminKey}` },
      payload: { name: 'csrf-bearer', role: 'member' },
    });
    expect(keyed.statusCode).toBe(201);
  });

  it('logout ends the session', async () => {
    const cookie = sessionOf((await login(ADMIN_USER, ADMIN_PASSWORD)).headers['set-cookie']);
    const out = await hub.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie } });
    expect(out.statusCode).toBe(204);
    expect(out.headers['set-cookie']).toMatch(/Max-Age=0/);
    expect((await hub.app.inject({ method: 'GET', url: '/api/v1/agents', headers: { cookie } })).statusCode).toBe(401);
  });

  it('a disabled admin cannot log in and its sessions stop working', async () => {
    const cookie = sessionOf((await login(ADMIN_USER, ADMIN_PASSWORD, '10.0.0.9')).headers['set-cookie']);
    const user = (await hub.app.core.store.users.getByName(ADMIN_USER))!;
    await hub.app.core.store.users.upsert({ ...user, enabled: false });
    expect((await hub.app.inject({ method: 'GET', url: '/api/v1/agents', headers: { cookie } })).statusCode).toBe(401);
    expect((await login(ADMIN_USER, ADMIN_PASSWORD, '10.0.0.9')).statusCode).toBe(401);
    await hub.app.core.store.users.upsert({ ...user, enabled: true });
  });

  it('wrong password: 401 and audited; five failures lock that user name from that source only, never the admin elsewhere', async () => {
    // Earlier tests may already have counted a failure for this user name: at most five failures pass through.
    let failures = 0;
    for (let i = 0; i < 5; i++) {
      const res = await login(ADMIN_USER, 'wrong-password!', '10.1.0.1');
      if (res.statusCode === 429) break;
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('SONDE_ERR_LOGIN_FAILED');
      failures += 1;
    }
    expect(failures).toBeGreaterThanOrEqual(4);
    // The guessing source is locked, even with the right password…
    const locked = await login(ADMIN_USER, ADMIN_PASSWORD, '10.1.0.1');
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error.code).toBe('SONDE_ERR_RATE_LIMITED');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // …the admin signing in from elsewhere is not (issue 19: a guesser cannot lock the admin out).
    expect((await login(ADMIN_USER, ADMIN_PASSWORD, '10.1.0.99')).statusCode).toBe(200);
    const audit = await hub.app.core.store.audit.query({ tool: 'login', limit: 100 });
    expect(audit.filter((e) => e.status === 'denied').length).toBeGreaterThanOrEqual(failures);
  });

  it('ten failures from one address lock that address for any user name', async () => {
    for (let i = 0; i < 10; i++) await login(`someone-${i}`, 'wrong-password!', '10.2.0.1');
    expect((await login('someone-else', 'x', '10.2.0.1')).statusCode).toBe(429);
  });
});

describe('Secure cookies', () => {
  it('are Secure when the public URL is https', async () => {
    const tls = await startTestHub({ SONDE_PUBLIC_URL: 'https://hub.example.com' });
    try {
      const res = await tls.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { user: ADMIN_USER, password: ADMIN_PASSWORD },
      });
      expect(res.headers['set-cookie']).toMatch(/; Secure$/);
    } finally {
      await tls.close();
    }
  });
});
