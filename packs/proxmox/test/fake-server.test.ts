import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { hostContext, runOnHost, startFakeApi, type FakeApi } from '@sonde/pack-sdk/testing';
import { recorded } from './recorded.js';

const creds = { tokenId: 'sonde@pve!monitor', tokenSecret: 'd2a6c0f4-1b7e-4c55-9a3e-5f1d2c3b4a59' };
const HEADER = `PVEAPIToken=${creds.tokenId}=${creds.tokenSecret}`;
const ANSWERS: Record<string, string> = {
  '/api2/json/version': 'version.json',
  '/api2/json/cluster/status': 'cluster-status.json',
  '/api2/json/nodes': 'nodes.json',
  '/api2/json/cluster/resources': 'cluster-resources-vm.json',
  '/api2/json/nodes/pve1/storage': 'storage-pve1.json',
  '/api2/json/cluster/tasks': 'cluster-tasks.json',
};

describe('proxmox pack against a fake Proxmox VE API on a real socket', () => {
  let api: FakeApi;

  beforeAll(async () => {
    api = await startFakeApi({
      authorized: (req) => req.headers.authorization === HEADER,
      route: (req, url) => {
        // Stands in for a misconfigured proxy that echoes what it received.
        if (url.pathname === '/api2/json/nodes/echo/storage')
          return { status: 500, body: { message: `bad header ${String(req.headers.authorization)}` } };
        return ANSWERS[url.pathname] ? { body: recorded(ANSWERS[url.pathname]) } : undefined;
      },
    });
  });
  afterAll(() => api.close());
  beforeEach(() => {
    api.mode = 'normal';
    api.seen.length = 0;
  });

  it('runs every probe; the PVEAPIToken header arrives on every request and the secret never in a result', async () => {
    for (const probe of pack.manifest.probes) {
      const result = await runOnHost(pack, probe.name, probe.name === 'node.storage' ? { node: 'pve1' } : {}, api.endpoint, creds);
      expect(JSON.stringify(result)).not.toContain(creds.tokenSecret);
    }
    expect(api.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /api2/json/cluster/status',
      'GET /api2/json/nodes',
      'GET /api2/json/cluster/resources?type=vm',
      'GET /api2/json/nodes/pve1/storage',
      'GET /api2/json/cluster/tasks',
      'GET /api2/json/version',
    ]);
    expect(api.seen.every((s) => s.headers.authorization === HEADER)).toBe(true);
  });

  it('the guard refuses write paths, other API paths and other hosts before any request', async () => {
    const ctx = hostContext(pack, api.endpoint, creds);
    const port = new URL(api.endpoint).port;
    for (const url of [
      `${api.endpoint}/api2/json/nodes/pve1/qemu/100/status/stop`,
      `${api.endpoint}/api2/json/access/users`,
      `${api.endpoint}/api2/json/nodes/pve1/storage/local/content`,
      `${api.endpoint}/api2/json/nodes/pve1/../../access/ticket`,
      `${api.endpoint}/api2/extjs/version`,
      `http://127.0.0.2:${port}/api2/json/version`,
    ]) {
      await expect(ctx.http(url), url).rejects.toMatchObject({ code: 'SONDE_ERR_PERMISSION_DENIED' });
    }
    expect(api.seen).toEqual([]);
  });

  it('a redirect is reported, not followed', async () => {
    api.mode = 'redirect';
    await expect(runOnHost(pack, 'version', {}, api.endpoint, creds)).rejects.toMatchObject({
      code: 'SONDE_ERR_HTTP_FAILED',
      message: expect.stringMatching(/redirected \(302\).*not followed/),
    });
    expect(api.seen).toHaveLength(1);
  });

  it('a wrong secret is a 401 naming the credentials, without echoing the secret', async () => {
    const wrong = { ...creds, tokenSecret: '00000000-0000-0000-0000-000000000000' };
    const error = await runOnHost(pack, 'nodes.list', {}, api.endpoint, wrong).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'SONDE_ERR_HTTP_FAILED',
      details: { status: 401 },
      message: expect.stringMatching(/authentication failed/),
    });
    expect(JSON.stringify(error)).not.toContain(wrong.tokenSecret);
  });

  it('an echoed Authorization header is redacted from the error', async () => {
    const error = await runOnHost(pack, 'node.storage', { node: 'echo' }, api.endpoint, creds).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: expect.stringMatching(/answered 500: bad header \[redacted\]/) });
    expect(JSON.stringify(error)).not.toContain(creds.tokenSecret);
  });

  it('500, a hang and a non-JSON answer are clear errors', async () => {
    api.mode = 'error500';
    await expect(runOnHost(pack, 'cluster.status', {}, api.endpoint, creds)).rejects.toMatchObject({
      message: expect.stringMatching(/answered 500/),
    });
    api.mode = 'garbage';
    await expect(runOnHost(pack, 'cluster.status', {}, api.endpoint, creds)).rejects.toMatchObject({
      message: expect.stringMatching(/did not answer JSON/),
    });
    api.mode = 'hang';
    await expect(runOnHost(pack, 'cluster.status', {}, api.endpoint, creds, 300)).rejects.toMatchObject({ code: 'SONDE_ERR_TIMEOUT' });
  });
});
