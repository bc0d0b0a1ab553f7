import { probeNames, runProbeWithFixtures, type Fixtures } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { evaluateHealth } from '../src/runbooks/availability.js';
import { recorded } from './recorded.js';

const E = 'https://app.example.com:8443';
const fixtures: Fixtures = {
  endpoint: E,
  credentials: { bearerToken: 'http-token-abcdef' },
  http: [
    {
      url: `${E}/actuator/health`,
      body: recorded('actuator-health.json'),
      headers: { 'content-type': 'application/vnd.spring-boot.actuator.v3+json', 'set-cookie': 'SESSION=secret', server: 'nginx' },
    },
    { url: `${E}/api/items?page=2&q=a+b%26c%3Dd`, body: '{"items":[1,2]}', headers: { 'x-total-count': '42' } },
    { url: `${E}/`, status: 503, body: 'down for maintenance', headers: { 'content-type': 'text/plain' } },
    { url: `${E}/old`, status: 301, headers: { location: 'https://app.example.com:8443/new' } },
  ],
};

describe('http pack manifest', () => {
  it('two read-only open-world probes on the configured endpoint only', () => {
    expect(probeNames(pack)).toEqual(['http.get', 'http.health']);
    expect(pack.manifest.kind).toBe('integration');
    expect(pack.manifest.probes.every((p) => p.openWorld && p.capability === 'observe')).toBe(true);
    expect(pack.manifest.permissions.network.map((n) => n.host)).toEqual(['{endpoint}', '{endpoint}']);
  });
});

describe('http probes', () => {
  it('get returns status, descriptive headers (never Set-Cookie) and the JSON body', async () => {
    const { result } = await runProbeWithFixtures(pack, 'get', { path: '/actuator/health' }, fixtures);
    expect(result).toEqual({
      path: '/actuator/health',
      status: 200,
      headers: { 'content-type': 'application/vnd.spring-boot.actuator.v3+json', server: 'nginx' },
      body: JSON.parse(recorded('actuator-health.json')) as unknown,
    });
  });

  it('get encodes query values so they stay values', async () => {
    const { result, calls } = await runProbeWithFixtures(pack, 'get', { path: '/api/items', query: { page: '2', q: 'a b&c=d' } }, fixtures);
    expect(result).toMatchObject({ body: { items: [1, 2] }, headers: { 'x-total-count': '42' } });
    expect(calls.http).toEqual([{ url: `${E}/api/items?page=2&q=a+b%26c%3Dd`, method: 'GET' }]);
  });

  it('get turns a non-2xx, a redirect and a non-JSON body into clear errors', async () => {
    await expect(runProbeWithFixtures(pack, 'get', {}, fixtures)).rejects.toMatchObject({
      code: 'SONDE_ERR_HTTP_FAILED',
      message: 'HTTP GET / answered 503: down for maintenance',
    });
    await expect(runProbeWithFixtures(pack, 'get', { path: '/old' }, fixtures)).rejects.toMatchObject({
      message: expect.stringMatching(/redirected \(301\) to https:\/\/app\.example\.com:8443\/new/),
    });
  });

  it('health reports status, ok and latency; a failing status is a result, not an error', async () => {
    const up = await runProbeWithFixtures(pack, 'health', { path: '/actuator/health' }, fixtures);
    expect(up.result).toMatchObject({ reachable: true, status: 200, ok: true, error: null });
    const down = await runProbeWithFixtures(pack, 'health', {}, fixtures);
    expect(down.result).toMatchObject({ reachable: true, status: 503, ok: false, contentType: 'text/plain' });
    const moved = await runProbeWithFixtures(pack, 'health', { path: '/old' }, fixtures);
    expect(moved.result).toMatchObject({ status: 301, ok: false, redirectTo: 'https://app.example.com:8443/new' });
  });

  it('the runbook judges health', () => {
    expect(evaluateHealth({ reachable: true, status: 200, ok: true, latencyMs: 12, error: null }).severity).toBe('ok');
    expect(evaluateHealth({ reachable: true, status: 200, ok: true, latencyMs: 2500, error: null }).severity).toBe('warning');
    expect(evaluateHealth({ reachable: true, status: 503, ok: false, latencyMs: 3, error: null }).severity).toBe('critical');
    expect(evaluateHealth({ reachable: false, status: null, ok: false, latencyMs: 3, error: 'SONDE_ERR_TIMEOUT: x' }).summary).toMatch(
      /unreachable: SONDE_ERR_TIMEOUT/,
    );
    expect(evaluateHealth({ error: 'boom' }).severity).toBe('critical');
  });

  it('no configured endpoint is a clear error', async () => {
    await expect(runProbeWithFixtures(pack, 'get', {}, { http: fixtures.http })).rejects.toMatchObject({
      message: expect.stringMatching(/no HTTP endpoint is configured/),
    });
  });
});
