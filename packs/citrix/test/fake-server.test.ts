import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { hostContext, runOnHost, startFakeApi, type FakeApi, type Seen } from '@sonde/pack-sdk/testing';
import { recorded } from './recorded.js';

const creds = {
  customerId: 'acme1a2b3c4d',
  clientId: '3f9a1c2e-7b6d-4e5f-8a9b-1c2d3e4f5a6b',
  clientSecret: 'Q2l0cml4U2VjcmV0LXNvbmRlLXRlc3Q=',
};
const TOKEN = (JSON.parse(recorded('token.json')) as { access_token: string }).access_token;
const SITE = '7c4a1e2b-9f3d-4b8a-a6e5-0d1c2b3a4f5e';

function tokenRequestOk(req: Seen): boolean {
  const form = new URLSearchParams(req.body);
  return (
    req.method === 'POST' &&
    req.headers['content-type'] === 'application/x-www-form-urlencoded' &&
    form.get('grant_type') === 'client_credentials' &&
    form.get('client_id') === creds.clientId &&
    form.get('client_secret') === creds.clientSecret
  );
}

describe('citrix pack against a fake Citrix Cloud on a real socket', () => {
  let api: FakeApi;

  beforeAll(async () => {
    api = await startFakeApi({
      authorized: (req) =>
        new URL(req.url, 'http://x').pathname === '/cctrustoauth2/root/tokens/clients'
          ? tokenRequestOk(req)
          : req.headers.authorization === `CwsAuth Bearer=${TOKEN}` && req.headers['citrix-customerid'] === creds.customerId,
      route: (req, url) => {
        if (url.pathname === '/cctrustoauth2/root/tokens/clients') return { body: recorded('token.json') };
        if (url.pathname === '/cvad/manage/me') return { body: recorded('me.json') };
        // Site-scoped collections need the site header, as the real API does.
        if (req.headers['citrix-instanceid'] !== SITE)
          return { status: 400, body: { ErrorMessage: 'Citrix-InstanceId header is missing or invalid' } };
        if (url.pathname === '/cvad/manage/Machines')
          return {
            body: recorded(
              url.searchParams.get('continuationToken') === 'eyJwYWdlIjoyfQ==' ? 'machines-page2.json' : 'machines-page1.json',
            ),
          };
        if (url.pathname === '/cvad/manage/DeliveryGroups') return { body: recorded('delivery-groups.json') };
        if (url.pathname === '/cvad/manage/Sessions') return { body: recorded('sessions.json') };
        return undefined;
      },
    });
  });
  afterAll(() => api.close());
  beforeEach(() => {
    api.mode = 'normal';
    api.seen.length = 0;
  });

  it('runs every probe: token POST, then CwsAuth, customer and site headers; secrets never in a result', async () => {
    const results = [];
    for (const probe of pack.manifest.probes) results.push(await runOnHost(pack, probe.name, {}, api.endpoint, creds));
    expect(results[0]).toMatchObject({ total: 4, site: { id: SITE } });
    expect(results[1]).toMatchObject({ total: 3 });
    expect(results[2]).toMatchObject({ groups: [{ name: 'Published Apps' }, { name: 'Win11 Desktops' }] });
    expect(results[3]).toMatchObject({ customers: [{ id: creds.customerId }] });
    const text = JSON.stringify(results);
    expect(text).not.toContain(creds.clientSecret);
    expect(text).not.toContain(TOKEN);
    expect(api.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'POST /cctrustoauth2/root/tokens/clients',
      'GET /cvad/manage/me',
      'GET /cvad/manage/Machines?limit=1000',
      'GET /cvad/manage/Machines?limit=1000&continuationToken=eyJwYWdlIjoyfQ%3D%3D',
      'POST /cctrustoauth2/root/tokens/clients',
      'GET /cvad/manage/me',
      'GET /cvad/manage/Sessions?limit=1000',
      'POST /cctrustoauth2/root/tokens/clients',
      'GET /cvad/manage/me',
      'GET /cvad/manage/DeliveryGroups?limit=500',
      'POST /cctrustoauth2/root/tokens/clients',
      'GET /cvad/manage/me',
    ]);
    const apiCalls = api.seen.filter((s) => s.method === 'GET');
    expect(
      apiCalls.every((s) => s.headers.authorization === `CwsAuth Bearer=${TOKEN}` && s.headers['citrix-customerid'] === creds.customerId),
    ).toBe(true);
  });

  it('the guard refuses write and undeclared paths and other hosts before any request', async () => {
    const ctx = hostContext(pack, api.endpoint, creds);
    const port = new URL(api.endpoint).port;
    for (const [url, method] of [
      [`${api.endpoint}/cvad/manage/Machines/ACME%5CVDA-W11-002/$reboot`, 'POST'],
      [`${api.endpoint}/cvad/manage/Administrators`, 'GET'],
      [`${api.endpoint}/cvad/manage/Machines/../Administrators`, 'GET'],
      [`${api.endpoint}/monitorodata/Machines`, 'GET'],
      [`http://127.0.0.2:${port}/cvad/manage/me`, 'GET'],
    ] as const) {
      await expect(ctx.http(url, { method }), url).rejects.toMatchObject({ code: 'SONDE_ERR_PERMISSION_DENIED' });
    }
    expect(api.seen).toEqual([]);
  });

  it('a redirect is reported, not followed', async () => {
    api.mode = 'redirect';
    await expect(runOnHost(pack, 'sites.list', {}, api.endpoint, creds)).rejects.toMatchObject({
      code: 'SONDE_ERR_HTTP_FAILED',
      message: expect.stringMatching(/redirected \(302\).*not followed/),
    });
    expect(api.seen).toHaveLength(1);
  });

  it('a wrong client secret fails at the token request (401) without echoing it', async () => {
    const wrong = { ...creds, clientSecret: 'wrong-secret-value' };
    const error = await runOnHost(pack, 'sites.list', {}, api.endpoint, wrong).catch((e: unknown) => e);
    expect(error).toMatchObject({
      details: { status: 401 },
      message: expect.stringMatching(/Citrix Cloud POST \/cctrustoauth2\/root\/tokens\/clients answered 401/),
    });
    expect(JSON.stringify(error)).not.toContain('wrong-secret-value');
    expect(api.seen).toHaveLength(1);
  });

  it('500, a hang and a non-JSON answer are clear errors', async () => {
    api.mode = 'error500';
    await expect(runOnHost(pack, 'sites.list', {}, api.endpoint, creds)).rejects.toMatchObject({
      message: expect.stringMatching(/answered 500/),
    });
    api.mode = 'garbage';
    await expect(runOnHost(pack, 'sites.list', {}, api.endpoint, creds)).rejects.toMatchObject({
      message: expect.stringMatching(/did not answer JSON/),
    });
    api.mode = 'hang';
    await expect(runOnHost(pack, 'sites.list', {}, api.endpoint, creds, 300)).rejects.toMatchObject({ code: 'SONDE_ERR_TIMEOUT' });
  });

  it('refuses to send the client secret over plain http to a remote host', async () => {
    await expect(runOnHost(pack, 'sites.list', {}, 'http://api.cloud.example', creds)).rejects.toMatchObject({
      code: 'SONDE_ERR_PERMISSION_DENIED',
      message: expect.stringMatching(/only sent over https/),
    });
  });
});
