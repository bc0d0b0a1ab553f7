import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { hostContext, runOnHost, startFakeApi, type FakeApi } from '@sonde/pack-sdk/testing';
import { recorded } from './recorded.js';

const creds = { username: 'sonde.reader', password: 'Sup3r-secret!' };
const BASIC = `Basic ${Buffer.from('sonde.reader:Sup3r-secret!').toString('base64')}`;
const BEARER = 'Bearer oauth-access-token-0001';

describe('servicenow pack against a fake instance on a real socket', () => {
  let api: FakeApi;

  beforeAll(async () => {
    api = await startFakeApi({
      authorized: (req) => req.headers.authorization === BASIC || req.headers.authorization === BEARER,
      route: (req, url) => {
        if (url.searchParams.get('sysparm_query') === 'number=INC0000666') {
          return {
            status: 500,
            body: { error: { message: `cannot process request with ${String(req.headers.authorization)}`, detail: '' } },
          };
        }
        const query = url.searchParams.get('sysparm_query') ?? '';
        const total = (file: string) => ({
          body: recorded(file),
          headers: { 'X-Total-Count': String((JSON.parse(recorded(file)) as { result: unknown[] }).result.length) },
        });
        if (url.pathname === '/api/now/table/incident')
          return total(
            query.startsWith('number=INC0010001')
              ? 'incident-INC0010001.json'
              : query.startsWith('number=')
                ? 'empty.json'
                : 'incidents-open.json',
          );
        if (url.pathname === '/api/now/table/change_request') return total('changes-upcoming.json');
        if (url.pathname === '/api/now/table/cmdb_ci') return total(query === 'name=lnux100' ? 'cmdb-ci-lnux100.json' : 'empty.json');
        return undefined;
      },
    });
  });
  afterAll(() => api.close());
  beforeEach(() => {
    api.mode = 'normal';
    api.seen.length = 0;
  });

  it('runs every probe with basic auth; the header arrives and the password never comes back', async () => {
    const params: Record<string, unknown> = { 'incident.get': { number: 'INC0010001' }, 'cmdb.ci.lookup': { name: 'lnux100' } };
    const results = [];
    for (const probe of pack.manifest.probes)
      results.push(await runOnHost(pack, probe.name, params[probe.name] ?? {}, api.endpoint, creds));
    expect(results[0]).toMatchObject({ total: 3 });
    expect(results[1]).toMatchObject({ found: true });
    expect(results[2]).toMatchObject({ emergency: 1 });
    expect(results[3]).toMatchObject({ total: 1, items: [{ name: 'lnux100' }] });
    expect(JSON.stringify(results)).not.toContain('Sup3r-secret!');
    expect(api.seen.map((s) => new URL(s.url, api.endpoint).pathname)).toEqual([
      '/api/now/table/incident',
      '/api/now/table/incident',
      '/api/now/table/change_request',
      '/api/now/table/cmdb_ci',
    ]);
    expect(api.seen.every((s) => s.method === 'GET' && s.headers.authorization === BASIC)).toBe(true);
  });

  it('a server that echoes the Authorization header cannot leak it through the error message', async () => {
    const error = await runOnHost(pack, 'incident.get', { number: 'INC0000666' }, api.endpoint, creds).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'SONDE_ERR_HTTP_FAILED',
      message: expect.stringMatching(/answered 500: cannot process request with \[redacted\]/),
    });
    const text = JSON.stringify(error);
    expect(text).not.toContain(BASIC.slice(6));
    expect(text).not.toContain('Sup3r-secret!');
  });

  it('an OAuth token is sent as a bearer instead of basic auth', async () => {
    await runOnHost(pack, 'incident.get', { number: 'INC0010001' }, api.endpoint, { ...creds, token: 'oauth-access-token-0001' });
    expect(api.seen[0].headers.authorization).toBe(BEARER);
  });

  it('the guard refuses other tables, other APIs and other hosts before any request', async () => {
    const ctx = hostContext(pack, api.endpoint, creds);
    const port = new URL(api.endpoint).port;
    for (const url of [
      `${api.endpoint}/api/now/table/sys_user`,
      `${api.endpoint}/api/now/table/incident/57af7aec73d423002728660c4cf6a71c`,
      `${api.endpoint}/api/now/table/cmdb_ci/../sys_user_has_password`,
      `${api.endpoint}/api/now/attachment`,
      `${api.endpoint}/api/now/v2/table/incident`,
      `http://127.0.0.2:${port}/api/now/table/incident`,
    ]) {
      await expect(ctx.http(url), url).rejects.toMatchObject({ code: 'SONDE_ERR_PERMISSION_DENIED' });
    }
    expect(api.seen).toEqual([]);
  });

  it('a redirect (the SSO login page) is reported, not followed', async () => {
    api.mode = 'redirect';
    await expect(runOnHost(pack, 'incidents.open', {}, api.endpoint, creds)).rejects.toMatchObject({
      code: 'SONDE_ERR_HTTP_FAILED',
      message: expect.stringMatching(/redirected \(302\).*not followed/),
    });
    expect(api.seen).toHaveLength(1);
  });

  it('wrong password: 401 with the instance message; 500, hang and HTML are clear errors', async () => {
    const error = await runOnHost(pack, 'incidents.open', {}, api.endpoint, { ...creds, password: 'Wrong-password-1' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      details: { status: 401 },
      message: expect.stringMatching(/authentication failed.*User Not Authenticated/),
    });
    expect(JSON.stringify(error)).not.toContain('Wrong-password-1');
    api.mode = 'error500';
    await expect(runOnHost(pack, 'incidents.open', {}, api.endpoint, creds)).rejects.toMatchObject({
      message: expect.stringMatching(/answered 500/),
    });
    api.mode = 'garbage';
    await expect(runOnHost(pack, 'incidents.open', {}, api.endpoint, creds)).rejects.toMatchObject({
      message: expect.stringMatching(/did not answer JSON/),
    });
    api.mode = 'hang';
    await expect(runOnHost(pack, 'incidents.open', {}, api.endpoint, creds, 300)).rejects.toMatchObject({ code: 'SONDE_ERR_TIMEOUT' });
  });
});
