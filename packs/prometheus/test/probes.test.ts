import { probeNames, runProbeWithFixtures, type Fixtures } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { recorded } from './recorded.js';

const E = 'https://prom.example.com:9090';
const api = (path: string) => `${E}/api/v1/${path}`;

const fixtures: Fixtures = {
  endpoint: E,
  credentials: { bearerToken: 'prom-token-123456' },
  http: [
    { url: api('targets?state=any'), body: recorded('targets.json') },
    { url: api('alerts'), body: recorded('alerts.json') },
    { url: api('rules'), body: recorded('rules.json') },
    { url: api('rules?type=record'), body: recorded('rules-err.json') },
    { url: api('query?query=up&timeout=25s'), body: recorded('query-vector.json') },
    { url: api('query?query=up%5B3s%5D&timeout=25s'), body: recorded('query-matrix.json') },
    {
      url: api('query?query=scalar%28up%7Bjob%3D%22prometheus%22%7D%29&time=2026-11-24T01%3A29%3A49Z&timeout=25s'),
      body: recorded('query-scalar.json'),
    },
    { url: api('query?query=1%2F0&timeout=25s'), body: recorded('query-scalar-inf.json') },
    { url: api('query?query=up%7B&timeout=25s'), status: 400, body: recorded('query-bad-data.json') },
    { url: api('status/buildinfo'), body: recorded('buildinfo.json') },
    { url: api('status/tsdb'), body: recorded('tsdb.json') },
  ],
};

describe('prometheus pack manifest', () => {
  it('is an integration pack whose probes are read-only, open-world and limited to the declared API paths', () => {
    expect(probeNames(pack)).toEqual([
      'prometheus.targets',
      'prometheus.alerts',
      'prometheus.rules',
      'prometheus.query',
      'prometheus.tsdb.status',
      'prometheus.buildinfo',
    ]);
    expect(pack.manifest.kind).toBe('integration');
    expect(pack.manifest.probes.every((p) => p.openWorld && p.capability === 'observe')).toBe(true);
    expect(pack.manifest.permissions.network.every((n) => n.host === '{endpoint}' && n.paths?.every((p) => p.startsWith('/api/v1/')))).toBe(
      true,
    );
    expect(pack.manifest.permissions.credentials.map((c) => c.name)).toEqual(['bearerToken']);
  });
});

describe('prometheus probes on documented answers', () => {
  it('targets: up/down per job and the failing target with its error', async () => {
    const { result } = await runProbeWithFixtures(pack, 'targets', {}, fixtures);
    expect(result).toMatchObject({
      totals: { up: 1, down: 1, unknown: 0 },
      jobs: [
        { job: 'node', up: 0, down: 1 },
        { job: 'prometheus', up: 1, down: 0 },
      ],
      droppedTargets: 0,
      truncated: false,
    });
    const unhealthy = await runProbeWithFixtures<{ targets: Array<{ instance: string; lastError: string }> }>(
      pack,
      'targets',
      { onlyUnhealthy: true },
      fixtures,
    );
    expect(unhealthy.result.targets).toHaveLength(1);
    expect(unhealthy.result.targets[0]).toMatchObject({
      instance: '127.0.0.1:1',
      lastError: expect.stringContaining('connection refused'),
    });
    const job = await runProbeWithFixtures<{ jobs: unknown[] }>(pack, 'targets', { job: 'prometheus' }, fixtures);
    expect(job.result.jobs).toEqual([{ job: 'prometheus', up: 1, down: 0, unknown: 0 }]);
  });

  it('alerts: firing and pending with severity and summary', async () => {
    const { result } = await runProbeWithFixtures(pack, 'alerts', {}, fixtures);
    expect(result).toMatchObject({
      firing: 1,
      pending: 1,
      bySeverity: { critical: 1 },
      alerts: [
        { name: 'TargetDown', state: 'firing', severity: 'critical', value: 0, summary: 'Target 127.0.0.1:1 of job node is down' },
        { name: 'AlwaysPending', state: 'pending', severity: 'warning', value: 1, summary: null },
      ],
    });
    const firing = await runProbeWithFixtures<{ alerts: unknown[] }>(pack, 'alerts', { state: 'firing' }, fixtures);
    expect(firing.result.alerts).toHaveLength(1);
  });

  it('rules: groups, active alerting rules and rules that fail to evaluate', async () => {
    const { result } = await runProbeWithFixtures(pack, 'rules', {}, fixtures);
    expect(result).toMatchObject({
      totals: { groups: 1, alerting: 2, recording: 1, unhealthy: 0 },
      groups: [{ name: 'sonde-test', file: 'rules.yml', intervalSeconds: 1 }],
    });
    const failing = await runProbeWithFixtures(pack, 'rules', { type: 'record' }, fixtures);
    expect(failing.result).toMatchObject({
      totals: { unhealthy: 1 },
      unhealthy: [{ name: 'job:http_inprogress_requests:sum', health: 'err', lastError: expect.stringContaining('many-to-many') }],
    });
  });

  it('query: vector, matrix and scalar results are typed; +Inf becomes null with the text kept', async () => {
    const vector = await runProbeWithFixtures(pack, 'query', { query: 'up' }, fixtures);
    expect(vector.result).toMatchObject({
      resultType: 'vector',
      seriesCount: 2,
      vector: [
        { metric: { job: 'node' }, value: 0, valueText: '0' },
        { metric: { job: 'prometheus' }, value: 1 },
      ],
    });
    const limited = await runProbeWithFixtures(pack, 'query', { query: 'up', limit: 1 }, fixtures);
    expect(limited.result).toMatchObject({ seriesCount: 2, truncated: true, vector: [{ metric: { job: 'node' } }] });
    const matrix = await runProbeWithFixtures<{ matrix: Array<{ samples: unknown[] }> }>(pack, 'query', { query: 'up[3s]' }, fixtures);
    expect(matrix.result.matrix[1].samples).toHaveLength(3);
    const scalar = await runProbeWithFixtures(
      pack,
      'query',
      { query: 'scalar(up{job="prometheus"})', time: '2026-11-24T01:29:49Z' },
      fixtures,
    );
    expect(scalar.result).toMatchObject({ resultType: 'scalar', scalar: { value: 1, valueText: '1' } });
    const inf = await runProbeWithFixtures(pack, 'query', { query: '1/0' }, fixtures);
    expect(inf.result).toMatchObject({ resultType: 'scalar', scalar: { value: null, valueText: '+Inf' } });
  });

  it('query: a PromQL syntax error is an invalid-params error carrying the parser message', async () => {
    await expect(runProbeWithFixtures(pack, 'query', { query: 'up{' }, fixtures)).rejects.toMatchObject({
      code: 'SONDE_ERR_INVALID_PARAMS',
      message: expect.stringContaining('unexpected end of input inside braces'),
    });
  });

  it('buildinfo and tsdb.status', async () => {
    expect((await runProbeWithFixtures(pack, 'buildinfo', {}, fixtures)).result).toMatchObject({
      version: '2.42.0+ds',
      goVersion: 'go1.19.8',
    });
    const tsdb = await runProbeWithFixtures<{ head: { numSeries: number; minTime: string }; seriesCountByMetricName: unknown[] }>(
      pack,
      'tsdb.status',
      { top: 3 },
      fixtures,
    );
    expect(tsdb.result.head.numSeries).toBe(521);
    expect(tsdb.result.head.minTime).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(tsdb.result.seriesCountByMetricName).toHaveLength(3);
  });

  it('sends the bearer token, and no credential appears in any result', async () => {
    for (const probe of pack.manifest.probes) {
      const params = probe.name === 'query' ? { query: 'up' } : {};
      const { result } = await runProbeWithFixtures(pack, probe.name, params, fixtures);
      expect(JSON.stringify(result)).not.toContain('prom-token-123456');
    }
  });

  it('without an endpoint the probe says so', async () => {
    await expect(runProbeWithFixtures(pack, 'buildinfo', {}, { ...fixtures, endpoint: undefined })).rejects.toMatchObject({
      code: 'SONDE_ERR_PROBE_FAILED',
      message: expect.stringMatching(/no Prometheus endpoint is configured/),
    });
  });

  it('refuses to send the token over plain http to a remote host', async () => {
    await expect(
      runProbeWithFixtures(pack, 'buildinfo', {}, { ...fixtures, endpoint: 'http://prom.example.com:9090' }),
    ).rejects.toMatchObject({ code: 'SONDE_ERR_PERMISSION_DENIED', message: expect.stringMatching(/only sent over https/) });
    const anonymous = await runProbeWithFixtures(
      pack,
      'buildinfo',
      {},
      {
        endpoint: 'http://prom.example.com:9090',
        http: [{ url: 'http://prom.example.com:9090/api/v1/status/buildinfo', body: recorded('buildinfo.json') }],
      },
    );
    expect(anonymous.result).toMatchObject({ version: '2.42.0+ds' });
  });

  it('an answer in an unexpected shape is a clear error', async () => {
    await expect(
      runProbeWithFixtures(
        pack,
        'targets',
        {},
        { ...fixtures, http: [{ url: api('targets?state=any'), body: '{"status":"success","data":{"activeTargets":"nope"}}' }] },
      ),
    ).rejects.toMatchObject({ code: 'SONDE_ERR_HTTP_FAILED', message: expect.stringMatching(/unexpected answer shape/) });
  });
});
