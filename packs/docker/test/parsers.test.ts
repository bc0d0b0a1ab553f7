import { describe, expect, it } from 'vitest';
import { exitCodeFromStatus, toContainerRow } from '../src/parsers/containers.js';
import { classifyDockerError } from '../src/parsers/errors.js';
import { toImageRow } from '../src/parsers/images.js';
import { summariseInfo } from '../src/parsers/info.js';
import { summariseInspect } from '../src/parsers/inspect.js';
import { mergeByTime, parseLogLines } from '../src/parsers/logs.js';
import { toStatsRow } from '../src/parsers/stats.js';
import { jsonLines, parseLabels, parsePercent, parseSize } from '../src/parsers/units.js';
import { recorded, recordedRun } from './recorded.js';

describe('docker CLI error outputs (recorded with docker 28.2.2)', () => {
  it('daemon down', () => {
    for (const name of [
      'ps-daemon-down',
      'info-daemon-down',
      'images-daemon-down',
      'inspect-daemon-down',
      'logs-daemon-down',
      'stats-daemon-down',
    ]) {
      const run = recordedRun(name);
      expect(run.exitCode).toBe(1);
      expect(classifyDockerError(run.stderr)).toMatchObject({
        code: 'SONDE_ERR_COMMAND_FAILED',
        message: 'the Docker daemon is not running or not reachable at unix:///var/run/docker.sock',
      });
    }
  });

  it('permission denied on the socket', () => {
    for (const name of ['ps-permission-denied', 'info-permission-denied']) {
      expect(classifyDockerError(recordedRun(name).stderr)).toMatchObject({
        code: 'SONDE_ERR_PERMISSION_DENIED',
        message: expect.stringMatching(/docker group/),
      });
    }
  });

  it('no such container; unknown errors fall through', () => {
    expect(classifyDockerError(recorded('inspect-missing.stderr'))?.message).toBe('no container named nope');
    expect(classifyDockerError(recorded('logs-missing.stderr'))?.message).toBe('no container named nope');
    expect(classifyDockerError('something else')).toBeUndefined();
  });
});

describe('docker output parsers', () => {
  it('container rows with health and exit code', () => {
    const rows = jsonLines(recorded('ps.jsonl')).records.map(toContainerRow);
    expect(rows.map((r) => [r.names[0], r.state, r.health])).toEqual([
      ['web', 'running', 'healthy'],
      ['api', 'running', 'unhealthy'],
      ['worker', 'restarting', null],
      ['migrate', 'exited', null],
      ['cron', 'exited', null],
    ]);
    expect(rows[0].labels).toEqual({ maintainer: 'NGINX Docker Maintainers <docker-maint@nginx.com>' });
    expect(rows[0].ports).toEqual(['0.0.0.0:8080->80/tcp', ':::8080->80/tcp']);
    expect(rows[1].labels['com.docker.compose.project']).toBe('app');
    expect(exitCodeFromStatus('Exited (137) 2 days ago')).toBe(137);
    expect(exitCodeFromStatus('Up 2 hours')).toBeNull();
  });

  it('inspect summary leaves environment values out', () => {
    const summary = summariseInspect((JSON.parse(recorded('inspect-web.json')) as unknown[])[0]);
    expect(summary).toMatchObject({
      name: 'web',
      image: 'nginx:alpine',
      restartPolicy: 'unless-stopped',
      envCount: 3,
      memoryLimitBytes: 268435456,
      logDriver: 'json-file',
    });
    expect(summary.state).toMatchObject({ running: true, oomKilled: false, health: { status: 'healthy', failingStreak: 0 } });
    expect(summary.ports).toEqual([
      { container: '80/tcp', hostIp: '0.0.0.0', hostPort: '8080' },
      { container: '80/tcp', hostIp: '::', hostPort: '8080' },
    ]);
    expect(summary.networks[0]).toMatchObject({ name: 'bridge', ipAddress: '172.17.0.2' });
    expect(JSON.stringify(summary)).not.toContain('s3cr3t');
  });

  it('images, info and stats', () => {
    const images = jsonLines(recorded('images.jsonl')).records.map(toImageRow);
    expect(images[0]).toMatchObject({ repository: 'nginx', tag: 'alpine', digest: null, sizeBytes: 40_700_000, dangling: false });
    expect(images.filter((i) => i.dangling)).toHaveLength(1);
    const info = summariseInfo(JSON.parse(recorded('info.json')));
    expect(info).toMatchObject({
      serverVersion: '28.2.2',
      running: 2,
      stopped: 3,
      storageDriver: 'overlay2',
      cgroupDriver: 'systemd',
      swarm: 'inactive',
      runtimes: ['io.containerd.runc.v2', 'runc'],
    });
    expect(info.warnings).toHaveLength(2);
    const down = summariseInfo(JSON.parse(recordedRun('info-daemon-down').stdout));
    expect(down).toMatchObject({ serverVersion: '', clientVersion: '28.2.2' });
    const stats = jsonLines(recorded('stats.jsonl')).records.map(toStatsRow);
    expect(stats[0]).toMatchObject({
      name: 'web',
      cpuPercent: 0,
      memUsageBytes: Math.round(7.527 * 1024 ** 2),
      memLimitBytes: Math.round(7.667 * 1024 ** 3),
      pids: 3,
      blockWriteBytes: 8190,
    });
    expect(stats[2]).toMatchObject({ cpuPercent: null, memUsageBytes: null, pids: null });
  });

  it('units', () => {
    expect(parseSize('0B')).toBe(0);
    expect(parseSize('1.09kB')).toBe(1090);
    expect(parseSize('2GiB')).toBe(2 * 1024 ** 3);
    expect(parseSize('N/A')).toBeNull();
    expect(parsePercent('12.5%')).toBe(12.5);
    expect(parseLabels('a=1,b=x=y')).toEqual({ a: '1', b: 'x=y' });
  });

  it('log lines keep their stream and interleave by time', () => {
    const merged = mergeByTime(parseLogLines(recorded('logs-web.stdout'), 'stdout'), parseLogLines(recorded('logs-web.stderr'), 'stderr'));
    expect(merged.map((l) => l.stream)).toEqual(['stderr', 'stderr', 'stdout', 'stdout', 'stderr']);
    expect(merged[0].time).toBe('2023-03-02T20:59:19.840210523Z');
  });
});
