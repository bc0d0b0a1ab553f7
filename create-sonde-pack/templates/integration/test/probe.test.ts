import { readFileSync } from 'node:fs';
import { runOnHost, runProbeWithFixtures, startFakeApi, type FakeApi } from '@sonde/pack-sdk/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { HealthSchema } from '../src/parse.js';

/** A real answer recorded from the service; record more with curl -H "Authorization: Bearer …" https://…/api/health */
const recorded = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const TOKEN = 'test-token-0123456789';

describe('{{packName}}.{{probeName}} on recorded answers', () => {
  it('reports a degraded service with its components', async () => {
    const run = await runProbeWithFixtures(
      pack,
      '{{probeName}}',
      {},
      {
        endpoint: 'https://service.example.com',
        credentials: { apiToken: TOKEN },
        http: [{ url: 'https://service.example.com/api/health', body: recorded('health-degraded.json') }],
      },
    );
    expect(run.result).toEqual({
      status: 'degraded',
      version: '2.3.1',
      components: [
        { name: 'database', up: true },
        { name: 'queue', up: false },
      ],
    });
    // The harness enforces the declared permissions like the hub: this also proves they cover what the probe does.
    expect(run.calls.http).toEqual([{ url: 'https://service.example.com/api/health', method: 'GET' }]);
  });

  it('refuses a parameter it does not declare before running', async () => {
    await expect(runProbeWithFixtures(pack, '{{probeName}}', { path: '/admin' })).rejects.toMatchObject({
      code: 'SONDE_ERR_INVALID_PARAMS',
    });
  });
});

describe('{{packName}}.{{probeName}} against a fake service on a real socket', () => {
  let api: FakeApi;
  beforeAll(async () => {
    api = await startFakeApi({
      authorized: (req) => req.headers.authorization === `Bearer ${TOKEN}`,
      route: (_req, url) =>
        url.pathname === '/api/health' ? { body: JSON.parse(recorded('health-degraded.json')) as unknown } : undefined,
    });
  });
  afterAll(() => api.close());

  it('calls the real HTTP client through the host context and sends the token', async () => {
    const result = HealthSchema.parse(await runOnHost(pack, '{{probeName}}', {}, api.endpoint, { apiToken: TOKEN }));
    expect(result.status).toBe('degraded');
    expect(api.seen.at(-1)?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('a wrong token is a clear error that does not echo the token', async () => {
    const failure = runOnHost(pack, '{{probeName}}', {}, api.endpoint, { apiToken: 'wrong-token-0000' });
    await expect(failure).rejects.toMatchObject({ code: 'SONDE_ERR_HTTP_FAILED' });
    await expect(failure).rejects.not.toThrow(/wrong-token/);
  });
});
