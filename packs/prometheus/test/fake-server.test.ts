import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { hostContext, runOnHost, startFakeApi, type FakeApi } from '@sonde/pack-sdk/testing';
import { recorded } from './recorded.js';

const TOKEN = 'fake-prometheus-token-0001';
const ANSWERS: Record<string, string> = {
  '/api/v1/targets': 'targets.json',
  '/api/v1/alerts': 'alerts.json',
  '/api/v1/rules': 'rules.json',
  '/api/v1/query': 'query-vector.json',
  '/api/v1/status/buildinfo': 'buildinfo.json',
  '/api/v1/status/tsdb': 'tsdb.json',
};

describe('prometheus pack against a fake Prometheus on a real socket', () => {
  let api: FakeApi;
  const creds = { bearerToken: TOKEN };

  beforeAll(async () => {
    api = await startFakeApi({
      authorized: (req) => req.headers.authorization === `Bearer ${TOKEN}`,
      route: (_req, url) => (ANSWERS[url.pathname] ? { body: recorded(ANSWERS[url.pathname]) } : undefined),
    });
  });
  afterAll(() => api.close());
  beforeEach(() => {
    api.mode = 'normal';
    api.seen.length = 0;
  });

  it('runs every probe through fetch; the bearer token arrives on every request and never in a result', async () => {
    for (const probe of pack.manifest.probes) {
      const result = await runOnHost(pack, probe.name, probe.name === 'query' ? { query: 'up == 0' } : {}, api.endpoint, creds);
      expect(JSON.stringify(result)).not.toContain(TOKEN);
    }
    expect(api.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /api/v1/targets?state=any',
      'GET /api/v1/alerts',
      'GET /api/v1/rules',
      'GET /api/v1/query?query=up+%3D%3D+0&timeout=25s',
      'GET /api/v1/status/tsdb',
      'GET /api/v1/status/buildinfo',
    ]);
    expect(api.seen.every((s) => s.headers.authorization === `Bearer ${TOKEN}` && s.headers.accept === 'application/json')).toBe(true);
  });

  it('the guard refuses undeclared paths and other hosts before any request is sent', async () => {
    const ctx = hostContext(pack, api.endpoint, creds);
    const port = new URL(api.endpoint).port;
    for (const url of [
      `${api.endpoint}/api/v1/admin/tsdb/delete_series`,
      `${api.endpoint}/api/v1/targets/../admin/tsdb/snapshot`,
      `${api.endpoint}/-/quit`,
      `${api.endpoint}/federate`,
      `${api.endpoint}/api/v1/%2e%2e/admin`,
      `http://127.0.0.2:${port}/api/v1/targets`,
      `http://user:pw@127.0.0.1:${port}/api/v1/targets`,
    ]) {
      await expect(ctx.http(url), url).rejects.toMatchObject({ code: 'SONDE_ERR_PERMISSION_DENIED' });
    }
    expect(api.seen).toEqual([]);
  });

  it('a redirect is reported, not followed', async () => {
    api.mode = 'redirect';
    await expect(runOnHost(pack, 'buildinfo', {}, api.endpoint, creds)).rejects.toMatchObject({
      code: 'SONDE_ERR_HTTP_FAILED',
      message: expect.stringMatching(/redirected \(302\) to http:\/\/127\.0\.0\.2:9\/elsewhere.*not followed/),
    });
    expect(api.seen).toHaveLength(1);
  });

  it('a wrong token is a 401 that names the credentials; a missing one too', async () => {
    await expect(runOnHost(pack, 'targets', {}, api.endpoint, { bearerToken: 'wrong-token-9999' })).rejects.toMatchObject({
      code: 'SONDE_ERR_HTTP_FAILED',
      details: { status: 401 },
      message: expect.stringMatching(/401: authentication failed, check the credentials/),
    });
    await expect(runOnHost(pack, 'targets', {}, api.endpoint, {})).rejects.toMatchObject({ details: { status: 401 } });
  });

  it('a 500 carries the server message', async () => {
    api.mode = 'error500';
    await expect(runOnHost(pack, 'alerts', {}, api.endpoint, creds)).rejects.toMatchObject({
      code: 'SONDE_ERR_HTTP_FAILED',
      message: expect.stringMatching(/answered 500: internal failure in the fake server/),
    });
  });

  it('a server that never answers is a timeout', async () => {
    api.mode = 'hang';
    const started = Date.now();
    await expect(runOnHost(pack, 'rules', {}, api.endpoint, creds, 300)).rejects.toMatchObject({ code: 'SONDE_ERR_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('an answer that is not JSON is a clear error', async () => {
    api.mode = 'garbage';
    await expect(runOnHost(pack, 'buildinfo', {}, api.endpoint, creds)).rejects.toMatchObject({
      code: 'SONDE_ERR_HTTP_FAILED',
      message: expect.stringMatching(/did not answer JSON \(text\/html\)/),
    });
  });
});
