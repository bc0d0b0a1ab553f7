import { probeNames, runProbeWithFixtures, type Fixtures } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { recorded } from './recorded.js';

const fixtures: Fixtures = {
  commands: [
    { binary: 'nginx', args: ['-t'], stderr: recorded('nginx-t-unprivileged.txt'), exitCode: 1 },
    { binary: 'nginx', args: ['-t', '-c', '/etc/nginx/nginx.conf'], stderr: recorded('nginx-t-ok.txt') },
    { binary: 'nginx', args: ['-t', '-c', '/etc/nginx/broken.conf'], stderr: recorded('nginx-t-unknown-directive.txt'), exitCode: 1 },
    { binary: 'nginx', args: ['-V'], stderr: recorded('nginx-V.txt') },
  ],
  files: { '/var/log/nginx/access.log': recorded('access.log'), '/var/log/nginx/error.log': recorded('error.log') },
  http: [{ url: 'http://127.0.0.1/nginx_status', body: recorded('stub-status.txt') }],
};

describe('nginx pack manifest', () => {
  it('declares five probes, detection and a runbook', () => {
    expect(probeNames(pack)).toEqual(['nginx.config.test', 'nginx.access.tail', 'nginx.error.tail', 'nginx.status', 'nginx.version']);
    expect(pack.manifest.detect).toEqual({ commands: ['nginx'], files: ['/etc/nginx/nginx.conf'], services: ['nginx'] });
    expect(pack.manifest.runbooks[0]?.category).toBe('web');
  });
});

describe('nginx probes on recorded outputs', () => {
  it('config.test reports syntax ok but a failed test as the unprivileged agent', async () => {
    const { result } = await runProbeWithFixtures(pack, 'config.test', {}, fixtures);
    expect(result).toMatchObject({ ok: false, syntaxOk: true, errors: 1, warnings: 1 });
  });

  it('config.test with a config path under /etc/nginx: ok and failed', async () => {
    expect((await runProbeWithFixtures(pack, 'config.test', { configPath: '/etc/nginx/nginx.conf' }, fixtures)).result).toMatchObject({
      ok: true,
      errors: 0,
    });
    const broken = await runProbeWithFixtures<{ ok: boolean; messages: Array<{ line: number }> }>(
      pack,
      'config.test',
      { configPath: '/etc/nginx/broken.conf' },
      fixtures,
    );
    expect(broken.result.ok).toBe(false);
    expect(broken.result.messages[0].line).toBe(4);
  });

  it('config.test refuses a config outside /etc/nginx at the host guard', async () => {
    await expect(runProbeWithFixtures(pack, 'config.test', { configPath: '/tmp/evil.conf' }, fixtures)).rejects.toMatchObject({
      code: 'SONDE_ERR_PERMISSION_DENIED',
    });
  });

  it('version', async () => {
    expect((await runProbeWithFixtures(pack, 'version', {}, fixtures)).result).toMatchObject({ version: '1.22.1' });
  });

  it('access.tail parses entries and counts statuses', async () => {
    const { result } = await runProbeWithFixtures(pack, 'access.tail', { lines: 2 }, fixtures);
    expect(result).toMatchObject({ parsed: 2, unparsed: 0, statusCounts: { '200': 2 }, truncated: true });
    const counts = await runProbeWithFixtures<{ entries: unknown[]; parsed: number }>(
      pack,
      'access.tail',
      { includeEntries: false },
      fixtures,
    );
    expect(counts.result).toMatchObject({ entries: [], parsed: 4 });
  });

  it('error.tail filters by level', async () => {
    const { result } = await runProbeWithFixtures<{ entries: Array<{ level: string }>; countsByLevel: Record<string, number> }>(
      pack,
      'error.tail',
      {},
      fixtures,
    );
    expect(result.entries.map((e) => e.level)).toEqual(['error']);
    expect(result.countsByLevel).toEqual({ info: 4, error: 1 });
    const all = await runProbeWithFixtures<{ entries: unknown[] }>(pack, 'error.tail', { minLevel: 'debug' }, fixtures);
    expect(all.result.entries).toHaveLength(5);
  });

  it('a missing log file is a clear error', async () => {
    await expect(runProbeWithFixtures(pack, 'access.tail', { path: '/var/log/nginx/other.log' }, fixtures)).rejects.toMatchObject({
      code: 'SONDE_ERR_FILE_NOT_FOUND',
    });
  });

  it('status reads stub_status on 127.0.0.1 by default and on a loopback endpoint', async () => {
    expect((await runProbeWithFixtures(pack, 'status', {}, fixtures)).result).toMatchObject({ active: 1, requests: 4, dropped: 0 });
    const endpoint = await runProbeWithFixtures(
      pack,
      'status',
      { path: '/basic_status' },
      {
        endpoint: 'http://127.0.0.1:8080',
        http: [{ url: 'http://127.0.0.1:8080/basic_status', body: recorded('stub-status.txt') }],
      },
    );
    expect(endpoint.calls.http).toEqual([{ url: 'http://127.0.0.1:8080/basic_status', method: 'GET' }]);
  });

  it('status refuses a non-loopback endpoint and explains a 404', async () => {
    await expect(runProbeWithFixtures(pack, 'status', {}, { endpoint: 'http://10.0.0.5:8080' })).rejects.toMatchObject({
      code: 'SONDE_ERR_PERMISSION_DENIED',
    });
    await expect(
      runProbeWithFixtures(pack, 'status', {}, { http: [{ url: 'http://127.0.0.1/nginx_status', status: 404, body: 'not found' }] }),
    ).rejects.toMatchObject({
      code: 'SONDE_ERR_HTTP_FAILED',
      message: expect.stringMatching(/enable stub_status/),
    });
  });
});
