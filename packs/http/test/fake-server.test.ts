import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { hostContext, runOnHost, startFakeApi, type FakeApi } from '@sonde/pack-sdk/testing';
import { recorded } from './recorded.js';

const TOKEN = 'fake-http-token-0001';

describe('http pack against a fake server on a real socket', () => {
  let api: FakeApi;
  const creds = { bearerToken: TOKEN };

  beforeAll(async () => {
    api = await startFakeApi({
      authorized: (req) => req.headers.authorization === `Bearer ${TOKEN}`,
      route: (_req, url) => {
        if (url.pathname === '/actuator/health') return { body: recorded('actuator-health.json'), headers: { 'Set-Cookie': 'S=1' } };
        if (url.pathname === '/echo') return { body: { query: Object.fromEntries(url.searchParams) } };
        return undefined;
      },
    });
  });
  afterAll(() => api.close());
  beforeEach(() => {
    api.mode = 'normal';
    api.seen.length = 0;
  });

  it('get and health through fetch; the bearer token arrives and never comes back', async () => {
    const got = await runOnHost(pack, 'get', { path: '/actuator/health' }, api.endpoint, creds);
    expect(got).toMatchObject({ status: 200, body: { status: 'UP' } });
    expect(JSON.stringify(got)).not.toMatch(/Set-Cookie|S=1|fake-http-token/i);
    const echo = await runOnHost(pack, 'get', { path: '/echo', query: { a: '1&b=2', 'c[]': '#x' } }, api.endpoint, creds);
    expect(echo).toMatchObject({ body: { query: { a: '1&b=2', 'c[]': '#x' } } });
    expect(await runOnHost(pack, 'health', { path: '/actuator/health' }, api.endpoint, creds)).toMatchObject({
      reachable: true,
      ok: true,
      status: 200,
    });
    expect(api.seen.every((s) => s.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('the guard refuses other hosts and URL credentials before any request', async () => {
    const ctx = hostContext(pack, api.endpoint, creds);
    const port = new URL(api.endpoint).port;
    for (const url of [
      `http://127.0.0.2:${port}/`,
      `http://127.0.0.1:${Number(port) + 1}/`,
      `http://u:p@127.0.0.1:${port}/`,
      'file:///etc/passwd',
    ]) {
      await expect(ctx.http(url), url).rejects.toMatchObject({ code: 'SONDE_ERR_PERMISSION_DENIED' });
    }
    expect(api.seen).toEqual([]);
  });

  it('a redirect is reported, not followed (get: error; health: a result naming the target)', async () => {
    api.mode = 'redirect';
    await expect(runOnHost(pack, 'get', { path: '/actuator/health' }, api.endpoint, creds)).rejects.toMatchObject({
      code: 'SONDE_ERR_HTTP_FAILED',
      message: expect.stringMatching(/redirected \(302\).*not followed/),
    });
    expect(await runOnHost(pack, 'health', {}, api.endpoint, creds)).toMatchObject({
      status: 302,
      ok: false,
      redirectTo: 'http://127.0.0.2:9/elsewhere/',
    });
    expect(api.seen).toHaveLength(2);
  });

  it('401, 500, a hang and a non-JSON answer are clear errors for get', async () => {
    await expect(runOnHost(pack, 'get', { path: '/actuator/health' }, api.endpoint, { bearerToken: 'wrong-token' })).rejects.toMatchObject({
      code: 'SONDE_ERR_HTTP_FAILED',
      details: { status: 401 },
      message: expect.stringMatching(/authentication failed/),
    });
    api.mode = 'error500';
    await expect(runOnHost(pack, 'get', {}, api.endpoint, creds)).rejects.toMatchObject({ message: expect.stringMatching(/answered 500/) });
    api.mode = 'garbage';
    await expect(runOnHost(pack, 'get', {}, api.endpoint, creds)).rejects.toMatchObject({
      message: expect.stringMatching(/did not answer JSON/),
    });
    api.mode = 'hang';
    await expect(runOnHost(pack, 'get', {}, api.endpoint, creds, 300)).rejects.toMatchObject({ code: 'SONDE_ERR_TIMEOUT' });
  });

  it('health reports a hang and a closed port as unreachable results', async () => {
    api.mode = 'hang';
    expect(await runOnHost(pack, 'health', { timeoutMs: 200 }, api.endpoint, creds)).toMatchObject({
      reachable: false,
      error: expect.stringMatching(/SONDE_ERR_TIMEOUT/),
    });
    expect(await runOnHost(pack, 'health', {}, 'http://127.0.0.1:1', {})).toMatchObject({
      reachable: false,
      error: expect.stringMatching(/SONDE_ERR_HTTP_FAILED/),
    });
  });
});
