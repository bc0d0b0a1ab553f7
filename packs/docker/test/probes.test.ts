import { probeNames, runProbeWithFixtures, type CommandFixture } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { JSON_FORMAT, PS_FORMAT } from '../src/permissions.js';
import { recorded, recordedRun } from './recorded.js';

const LS_ALL = ['container', 'ls', '--all', '--no-trunc', '--format', PS_FORMAT];
const INFO = ['info', '--format', JSON_FORMAT];

const ok: CommandFixture[] = [
  { binary: 'docker', args: LS_ALL, stdout: recorded('ps.jsonl') },
  {
    binary: 'docker',
    args: ['container', 'ls', '--no-trunc', '--format', PS_FORMAT],
    stdout: recorded('ps.jsonl').split('\n').slice(0, 2).join('\n'),
  },
  { binary: 'docker', args: ['container', 'inspect', 'web'], stdout: recorded('inspect-web.json') },
  {
    binary: 'docker',
    args: ['container', 'inspect', 'nope'],
    stdout: recorded('inspect-missing.stdout'),
    stderr: recorded('inspect-missing.stderr'),
    exitCode: 1,
  },
  {
    binary: 'docker',
    args: ['container', 'logs', '--timestamps', '--tail', '200', 'web'],
    stdout: recorded('logs-web.stdout'),
    stderr: recorded('logs-web.stderr'),
  },
  {
    binary: 'docker',
    args: ['container', 'logs', '--timestamps', '--tail', '2', '--since', '15m', 'web'],
    stdout: recorded('logs-web.stdout'),
    stderr: recorded('logs-web.stderr'),
  },
  { binary: 'docker', args: ['image', 'ls', '--no-trunc', '--format', JSON_FORMAT], stdout: recorded('images.jsonl') },
  { binary: 'docker', args: INFO, stdout: recorded('info.json') },
  { binary: 'docker', args: ['container', 'stats', '--no-stream', '--no-trunc', '--format', JSON_FORMAT], stdout: recorded('stats.jsonl') },
  {
    binary: 'docker',
    args: ['container', 'stats', '--no-stream', '--no-trunc', '--format', JSON_FORMAT, 'web'],
    stdout: recorded('stats.jsonl').split('\n')[0],
  },
];

/** The same calls answered with the recorded daemon-down / permission-denied runs. */
function failing(kind: 'daemon-down' | 'permission-denied'): CommandFixture[] {
  const ps = recordedRun(kind === 'daemon-down' ? 'ps-daemon-down' : 'ps-permission-denied');
  const info = recordedRun(kind === 'daemon-down' ? 'info-daemon-down' : 'info-permission-denied');
  return ok.map((fixture) => ({ ...fixture, ...(fixture.args[0] === 'info' ? info : ps) }));
}

describe('docker pack manifest', () => {
  it('declares six probes, the docker group and detection', () => {
    expect(probeNames(pack)).toHaveLength(6);
    expect(pack.manifest.permissions.groups).toEqual(['docker']);
    expect(pack.manifest.permissions.files).toEqual([]);
    expect(pack.manifest.detect.files).toContain('/var/run/docker.sock');
  });
});

describe('docker probes on recorded outputs', () => {
  it('containers.list counts states', async () => {
    const { result } = await runProbeWithFixtures<{ counts: Record<string, number>; containers: Array<{ exitCode: number | null }> }>(
      pack,
      'containers.list',
      {},
      { commands: ok },
    );
    expect(result.counts).toEqual({ running: 2, restarting: 1, exited: 2 });
    expect(result.containers.map((c) => c.exitCode)).toEqual([null, null, null, 0, 137]);
    const running = await runProbeWithFixtures<{ containers: unknown[] }>(pack, 'containers.list', { all: false }, { commands: ok });
    expect(running.result.containers).toHaveLength(2);
  });

  it('container.inspect, and a missing container', async () => {
    expect((await runProbeWithFixtures(pack, 'container.inspect', { container: 'web' }, { commands: ok })).result).toMatchObject({
      name: 'web',
      envCount: 3,
    });
    await expect(runProbeWithFixtures(pack, 'container.inspect', { container: 'nope' }, { commands: ok })).rejects.toMatchObject({
      message: 'no container named nope',
    });
  });

  it('container.logs tails both streams, with an optional since', async () => {
    const { result } = await runProbeWithFixtures<{ lines: Array<{ stream: string }>; truncated: boolean }>(
      pack,
      'container.logs',
      { container: 'web' },
      { commands: ok },
    );
    expect(result.lines).toHaveLength(5);
    expect(result.truncated).toBe(false);
    const since = await runProbeWithFixtures<{ lines: unknown[]; truncated: boolean }>(
      pack,
      'container.logs',
      { container: 'web', lines: 2, sinceMinutes: 15 },
      { commands: ok },
    );
    expect(since.result).toMatchObject({ truncated: true });
    expect(since.result.lines).toHaveLength(2);
  });

  it('images.list, daemon.info and container.stats', async () => {
    expect((await runProbeWithFixtures(pack, 'images.list', {}, { commands: ok })).result).toMatchObject({ dangling: 1 });
    expect((await runProbeWithFixtures(pack, 'daemon.info', {}, { commands: ok })).result).toMatchObject({
      serverVersion: '28.2.2',
      cpus: 4,
    });
    const stats = await runProbeWithFixtures<{ containers: Array<{ name: string }> }>(pack, 'container.stats', {}, { commands: ok });
    expect(stats.result.containers.map((c) => c.name)).toEqual(['api', 'web', 'worker']);
    expect(
      (await runProbeWithFixtures<{ containers: unknown[] }>(pack, 'container.stats', { container: 'web' }, { commands: ok })).result
        .containers,
    ).toHaveLength(1);
  });

  const params: Record<string, unknown> = {
    'container.inspect': { container: 'web' },
    'container.logs': { container: 'web' },
    'container.stats': { container: 'web' },
  };

  it('every probe reports a stopped daemon as a clear error', async () => {
    for (const probe of pack.manifest.probes.map((p) => p.name)) {
      await expect(
        runProbeWithFixtures(pack, probe, params[probe] ?? {}, { commands: failing('daemon-down') }),
        probe,
      ).rejects.toMatchObject({
        code: 'SONDE_ERR_COMMAND_FAILED',
        message: 'the Docker daemon is not running or not reachable at unix:///var/run/docker.sock',
      });
    }
  });

  it('every probe reports a socket it may not open as a permission error naming the docker group', async () => {
    for (const probe of pack.manifest.probes.map((p) => p.name)) {
      await expect(
        runProbeWithFixtures(pack, probe, params[probe] ?? {}, { commands: failing('permission-denied') }),
        probe,
      ).rejects.toMatchObject({
        code: 'SONDE_ERR_PERMISSION_DENIED',
        message: expect.stringMatching(/add it to the docker group/),
      });
    }
  });

  it('docker not installed', async () => {
    await expect(
      runProbeWithFixtures(pack, 'daemon.info', {}, { commands: [{ binary: 'docker', args: INFO, fail: 'not-found' }] }),
    ).rejects.toMatchObject({ code: 'SONDE_ERR_COMMAND_NOT_FOUND' });
  });
});
