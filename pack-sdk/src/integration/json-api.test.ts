import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePack, defineProbe } from '../manifest/define.js';
import { runProbeWithFixtures } from '../testing/index.js';
import { callApi, expectShape } from './json-api.js';

// One probe that reads /api/v1/status with a token header, as an integration pack would.
const pack = definePack({
  name: 'demo',
  version: '1.0.0',
  description: 'demo integration pack',
  kind: 'integration',
  permissions: {
    network: [
      { host: '{endpoint}', protocol: 'https', paths: ['/api/**'] },
      { host: '{endpoint}', protocol: 'http', paths: ['/api/**'] },
    ],
    credentials: [{ name: 'token', description: 'API token.' }],
  },
  probes: [
    defineProbe({
      name: 'status.get',
      description: 'Reads the product status.',
      params: z.object({ tokenInBody: z.boolean().default(false) }).strict(),
      result: z.object({ state: z.string() }),
      async handler({ tokenInBody }, ctx) {
        const auth: Record<string, string> = tokenInBody ? {} : { Authorization: `Bearer ${ctx.credentials.token ?? ''}` };
        const call = tokenInBody
          ? {
              path: '/api/v1/status',
              method: 'POST' as const,
              body: JSON.stringify({ token: ctx.credentials.token }),
              credentialsInBody: true,
            }
          : { path: '/api/v1/status', query: { verbose: true, skip: undefined } };
        const response = await callApi(ctx, 'Demo', call, auth);
        return expectShape(z.object({ state: z.string() }), response.body, 'Demo status');
      },
    }),
  ],
});

const token = 'tok-0123456789abcdef';

describe('callApi', () => {
  it('reads JSON from the endpoint origin with the query encoded and undefined values left out', async () => {
    const run = await runProbeWithFixtures(
      pack,
      'status.get',
      {},
      {
        endpoint: 'https://demo.example/ignored/base',
        credentials: { token },
        http: [{ url: 'https://demo.example/api/v1/status?verbose=true', body: '{"state":"ok"}' }],
      },
    );
    expect(run.result).toEqual({ state: 'ok' });
    expect(run.calls.http).toEqual([{ url: 'https://demo.example/api/v1/status?verbose=true', method: 'GET' }]);
  });

  it('maps a 401 to SONDE_ERR_HTTP_FAILED with the product text and the token redacted', async () => {
    const run = runProbeWithFixtures(
      pack,
      'status.get',
      {},
      {
        endpoint: 'https://demo.example',
        credentials: { token },
        http: [
          { url: 'https://demo.example/api/v1/status?verbose=true', status: 401, body: JSON.stringify({ message: `bad token ${token}` }) },
        ],
      },
    );
    const error = await run.then(
      () => new Error('expected a rejection'),
      (e: unknown) => e as Error,
    );
    expect(error).toMatchObject({ code: 'SONDE_ERR_HTTP_FAILED' });
    expect(error.message).toContain('Demo GET /api/v1/status answered 401: authentication failed');
    expect(error.message).toContain('bad token [redacted]');
    expect(error.message).not.toContain(token);
  });

  it('refuses to send a credential in the body over plain http to a non-loopback host', async () => {
    const run = runProbeWithFixtures(
      pack,
      'status.get',
      { tokenInBody: true },
      { endpoint: 'http://demo.example', credentials: { token }, http: [{ url: 'http://demo.example/api/v1/status', method: 'POST' }] },
    );
    await expect(run).rejects.toMatchObject({ code: 'SONDE_ERR_PERMISSION_DENIED' });
  });
});
