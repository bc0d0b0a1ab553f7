import { probeNames, runProbeWithFixtures, type CommandFixture } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { PS_FORMAT } from '../src/permissions.js';
import { procFixtures, recorded } from './recorded.js';

const JOURNAL_BASE = ['--no-pager', '--output=json', '--lines=100'];

const commands: CommandFixture[] = [
  { binary: 'df', args: ['-P', '-k'], stdout: recorded('df-pk.txt') },
  { binary: 'df', args: ['-P', '-i'], stdout: recorded('df-pi.txt') },
  { binary: 'ip', args: ['-j', 'addr', 'show'], stdout: recorded('ip-j-addr.json') },
  { binary: 'cat', args: ['/proc/net/dev'], stdout: recorded('proc-net-dev.txt') },
  { binary: 'ping', args: ['-n', '-c', '3', '-W', '2', '127.0.0.1'], stdout: recorded('ping-127.0.0.1.txt') },
  { binary: 'ping', args: ['-n', '-c', '3', '-W', '2', '10.255.255.1'], stdout: recorded('ping-loss.txt'), exitCode: 1 },
  { binary: 'ping', args: ['-n', '-c', '1', '-W', '1', 'no-such-host.invalid'], stderr: recorded('ping-unknown-host.txt'), exitCode: 2 },
  { binary: 'traceroute', args: ['-n', '-q', '1', '-w', '2', '-m', '15', '127.0.0.1'], stdout: recorded('traceroute-127.0.0.1.txt') },
  { binary: 'traceroute', args: ['-n', '-q', '1', '-w', '2', '-m', '15', '10.255.255.1'], stdout: recorded('traceroute-stars.txt') },
  { binary: 'journalctl', args: JOURNAL_BASE, stdout: recorded('journal.json') },
  {
    binary: 'journalctl',
    args: ['--no-pager', '--output=json', '--lines=5', '--unit=nginx.service', '--since=-30min', '--priority=3'],
    stdout: '',
  },
  { binary: 'dmesg', args: ['--json'], stdout: recorded('dmesg-json.json') },
  { binary: 'ps', args: ['-e', '-o', PS_FORMAT, '--sort=-pcpu', '--no-headers'], stdout: recorded('ps-top.txt') },
  { binary: 'ps', args: ['-e', '-o', PS_FORMAT, '--sort=-rss', '--no-headers'], stdout: recorded('ps-top.txt') },
];

const files = {
  ...procFixtures(),
  '/var/log/syslog':
    'artial\nNov 24 00:29:08 web1 CRON[4242]: (root) CMD (run-parts /etc/cron.hourly)\nNov 24 00:30:01 web1 kernel: eth0 link up\n',
};

const run = <T = Record<string, unknown>>(
  probe: string,
  params: unknown = {},
  extra: { commands?: CommandFixture[]; files?: Record<string, string> } = {},
) =>
  runProbeWithFixtures<T>(pack, probe, params, { commands: [...(extra.commands ?? []), ...commands], files: { ...files, ...extra.files } });

describe('system pack manifest', () => {
  it('declares its probes, detection and a runbook', () => {
    expect(probeNames(pack)).toHaveLength(13);
    expect(pack.manifest.detect.commands).toContain('df');
    expect(pack.manifest.runbooks.map((r) => r.category)).toEqual(['resources']);
    expect(pack.manifest.permissions.groups).toEqual(['adm', 'systemd-journal']);
  });
});

describe('system probes on recorded outputs', () => {
  it('disk.usage leaves pseudo filesystems out unless asked', async () => {
    const { result } = await run<{ filesystems: Array<{ filesystem: string; mountpoint: string }> }>('disk.usage');
    expect(result.filesystems.map((f) => f.mountpoint)).toEqual(['/']);
    const all = await run<{ filesystems: unknown[] }>('disk.usage', { includePseudo: true });
    expect(all.result.filesystems.length).toBeGreaterThan(1);
  });

  it('disk.inodes', async () => {
    const { result } = await run<{ filesystems: Array<{ mountpoint: string; inodes: number }> }>('disk.inodes');
    expect(result.filesystems[0]).toMatchObject({ mountpoint: '/' });
  });

  it('memory.usage reads /proc/meminfo, and falls back to cat when procfs reads back empty', async () => {
    const { result, calls } = await run<{ totalBytes: number }>('memory.usage');
    expect(result.totalBytes).toBe(24684096 * 1024);
    expect(calls.commands).toEqual([]);
    const fallback = await run<{ totalBytes: number }>(
      'memory.usage',
      {},
      {
        files: { '/proc/meminfo': '' },
        commands: [{ binary: 'cat', args: ['/proc/meminfo'], stdout: recorded('proc-meminfo.txt') }],
      },
    );
    expect(fallback.result.totalBytes).toBe(24684096 * 1024);
    expect(fallback.calls.commands).toEqual([{ binary: 'cat', args: ['/proc/meminfo'] }]);
  });

  it('cpu.usage samples /proc/stat twice', async () => {
    const { result, calls } = await run<{ cpus: number; perCpu: unknown[]; total: { usagePercent: number } }>('cpu.usage', {
      sampleMs: 100,
      perCpu: true,
    });
    expect(result.cpus).toBe(2);
    expect(result.perCpu).toHaveLength(2);
    expect(result.total.usagePercent).toBe(0);
    expect(calls.files.filter((f) => f === '/proc/stat')).toHaveLength(2);
  });

  it('load.average and uptime', async () => {
    expect((await run('load.average')).result).toMatchObject({ load1: 0.13, cpus: 2, load1PerCpu: 0.07 });
    expect((await run('uptime')).result).toMatchObject({ uptimeSeconds: 750.69 });
  });

  it('network.interfaces joins addresses and counters; counters only without ip', async () => {
    const { result } = await run<{ interfaces: Array<{ name: string; counters: { rxBytes: number } | null }> }>('network.interfaces');
    expect(result.interfaces.find((i) => i.name === 'lo')?.counters?.rxBytes).toBe(51049);
    const noIp = await run<{ addressesAvailable: boolean; interfaces: unknown[] }>(
      'network.interfaces',
      {},
      { commands: [{ binary: 'ip', args: ['-j', 'addr', 'show'], fail: 'not-found' }] },
    );
    expect(noIp.result.addressesAvailable).toBe(false);
    expect(noIp.result.interfaces.length).toBeGreaterThan(0);
  });

  it('network.ping: success, total loss and unknown host are typed results', async () => {
    expect((await run('network.ping', { host: '127.0.0.1' })).result).toMatchObject({ reachable: true, received: 3, error: null });
    expect((await run('network.ping', { host: '10.255.255.1' })).result).toMatchObject({ reachable: false, lossPercent: 100 });
    expect((await run('network.ping', { host: 'no-such-host.invalid', count: 1, timeoutSeconds: 1 })).result).toMatchObject({
      reachable: false,
      error: 'no-such-host.invalid: Name or service not known',
    });
  });

  it('network.traceroute', async () => {
    expect((await run('network.traceroute', { host: '127.0.0.1' })).result).toMatchObject({ reachedDestination: true });
    expect((await run('network.traceroute', { host: '10.255.255.1' })).result).toMatchObject({ reachedDestination: false });
  });

  it('logs.journal builds fixed argv and flags a limited view', async () => {
    const { result } = await run<{ entries: unknown[]; limitedView: boolean }>('logs.journal');
    expect(result.entries).toHaveLength(3);
    expect(result.limitedView).toBe(false);
    const filtered = await run('logs.journal', { unit: 'nginx.service', sinceMinutes: 30, priority: 'err', lines: 5 });
    expect(filtered.calls.commands[0].args).toEqual([
      '--no-pager',
      '--output=json',
      '--lines=5',
      '--unit=nginx.service',
      '--since=-30min',
      '--priority=3',
    ]);
    const limited = await run<{ limitedView: boolean }>(
      'logs.journal',
      {},
      {
        commands: [{ binary: 'journalctl', args: JOURNAL_BASE, stdout: '', stderr: recorded('journal-limited.stderr') }],
      },
    );
    expect(limited.result.limitedView).toBe(true);
  });

  it('logs.journal without the journal group is a clear permission error', async () => {
    await expect(
      run(
        'logs.journal',
        {},
        { commands: [{ binary: 'journalctl', args: JOURNAL_BASE, stderr: recorded('journal-denied.stderr'), exitCode: 1 }] },
      ),
    ).rejects.toMatchObject({ code: 'SONDE_ERR_PERMISSION_DENIED', message: expect.stringMatching(/systemd-journal group/) });
  });

  it('logs.dmesg returns the last lines with levels, or a clear error when restricted', async () => {
    const { result } = await run<{ messages: unknown[]; total: number; format: string; truncated: boolean }>('logs.dmesg', { lines: 10 });
    expect(result.messages).toHaveLength(10);
    expect(result.total).toBeGreaterThan(100);
    expect(result).toMatchObject({ format: 'json', truncated: true });
    const warnings = await run<{ messages: Array<{ level: string }> }>('logs.dmesg', { minLevel: 'warning' });
    expect(warnings.result.messages.every((m) => ['emerg', 'alert', 'crit', 'err', 'warning'].includes(m.level))).toBe(true);
    await expect(
      run(
        'logs.dmesg',
        {},
        { commands: [{ binary: 'dmesg', args: ['--json'], stderr: recorded('dmesg-not-permitted.stderr'), exitCode: 1 }] },
      ),
    ).rejects.toMatchObject({ code: 'SONDE_ERR_PERMISSION_DENIED' });
  });

  it('logs.tail drops the partial first line and splits syslog fields', async () => {
    const { result } = await run<{ lines: Array<{ program: string | null }>; truncated: boolean }>('logs.tail', { lines: 1 });
    expect(result.lines).toEqual([{ time: 'Nov 24 00:30:01', host: 'web1', program: 'kernel', pid: null, message: 'eth0 link up' }]);
    expect(result.truncated).toBe(true);
  });

  it('processes.top sorts by the chosen column and limits rows', async () => {
    const { result, calls } = await run<{ processes: unknown[]; totalProcesses: number }>('processes.top', { sortBy: 'memory', limit: 5 });
    expect(result.processes).toHaveLength(5);
    expect(calls.commands[0].args).toContain('--sort=-rss');
  });

  it('a missing command is reported with its code, not a crash', async () => {
    await expect(run('disk.usage', {}, { commands: [{ binary: 'df', args: ['-P', '-k'], fail: 'not-found' }] })).rejects.toMatchObject({
      code: 'SONDE_ERR_COMMAND_NOT_FOUND',
    });
  });
});
