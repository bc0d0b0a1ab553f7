import { describe, expect, it } from 'vitest';
import { isPseudoFilesystem, parseDfInodes, parseDfSpace } from '../src/parsers/df.js';
import { dmesgNotPermitted, parseDmesgJson, parseDmesgText } from '../src/parsers/dmesg.js';
import { journalIsLimited, journalPermissionDenied, parseJournal } from '../src/parsers/journal.js';
import { countProcessors, parseLoadavg, parseUptime } from '../src/parsers/loadavg.js';
import { parseMeminfo, summariseMemory } from '../src/parsers/meminfo.js';
import { parseIpAddrJson, parseNetDev } from '../src/parsers/network.js';
import { parsePing, parseTraceroute } from '../src/parsers/ping.js';
import { cpuUsageBetween, parseProcStat } from '../src/parsers/proc-stat.js';
import { parsePs } from '../src/parsers/ps.js';
import { lastLines, parseLogLine } from '../src/parsers/syslog.js';
import { recorded } from './recorded.js';

describe('df parsers (recorded df -P -k / -P -i)', () => {
  it('reads every filesystem row with bytes and percent', () => {
    const rows = parseDfSpace(recorded('df-pk.txt'));
    const root = rows.find((row) => row.mountpoint === '/');
    expect(root).toEqual({
      filesystem: '/dev/vda',
      mountpoint: '/',
      sizeBytes: 264212084 * 1024,
      usedBytes: expect.any(Number),
      availableBytes: expect.any(Number),
      usedPercent: expect.any(Number),
    });
    expect(rows.length).toBe(recorded('df-pk.txt').trim().split('\n').length - 1);
    expect(isPseudoFilesystem('tmpfs', 100)).toBe(true);
    expect(isPseudoFilesystem('/dev/vda', 100)).toBe(false);
  });

  it('reads inode rows, including "-" for filesystems without inodes', () => {
    const rows = parseDfInodes(recorded('df-pi.txt'));
    expect(rows.find((row) => row.mountpoint === '/')?.inodes).toBeGreaterThan(0);
    const none = parseDfInodes('Filesystem Inodes IUsed IFree IUse% Mounted on\nfuse 0 0 0 - /mnt/with space\n');
    expect(none).toEqual([{ filesystem: 'fuse', mountpoint: '/mnt/with space', inodes: 0, used: 0, free: 0, usedPercent: null }]);
  });
});

describe('procfs parsers (recorded /proc files)', () => {
  it('summarises /proc/meminfo in bytes', () => {
    const values = parseMeminfo(recorded('proc-meminfo.txt'));
    expect(values.MemTotal).toBe(24684096 * 1024);
    const summary = summariseMemory(values);
    expect(summary.availableBytes).toBe(values.MemAvailable);
    expect(summary.usedPercent).toBeGreaterThan(0);
    expect(summary.usedPercent).toBeLessThan(100);
  });

  it('computes CPU usage between two recorded /proc/stat samples', () => {
    const before = parseProcStat(recorded('proc-stat-1.txt'));
    const after = parseProcStat(recorded('proc-stat-2.txt'));
    expect(before.map((c) => c.cpu)).toEqual(['cpu', 'cpu0', 'cpu1']);
    const usage = cpuUsageBetween(before[0], after[0]);
    expect(usage.usagePercent).toBeGreaterThanOrEqual(0);
    expect(usage.usagePercent).toBeLessThanOrEqual(100);
    expect(cpuUsageBetween(before[0], before[0]).usagePercent).toBe(0);
    const busy = cpuUsageBetween(
      { cpu: 'cpu', user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0 },
      { cpu: 'cpu', user: 30, nice: 0, system: 10, idle: 50, iowait: 10, irq: 0, softirq: 0, steal: 0 },
    );
    expect(busy).toMatchObject({ usagePercent: 40, userPercent: 30, systemPercent: 10, iowaitPercent: 10, idlePercent: 50 });
  });

  it('reads load, processors and uptime', () => {
    expect(parseLoadavg(recorded('proc-loadavg.txt'))).toEqual({ load1: 0.13, load5: 0.27, load15: 0.24, runnable: 3, processes: 141 });
    expect(countProcessors(recorded('proc-cpuinfo.txt'))).toBe(2);
    expect(parseUptime(recorded('proc-uptime.txt'))).toEqual({ uptimeSeconds: 750.69, idleSeconds: 1190.41 });
    expect(() => parseLoadavg('garbage')).toThrow(/unexpected/);
  });

  it('reads /proc/net/dev counters and ip -j addr', () => {
    const counters = parseNetDev(recorded('proc-net-dev.txt'));
    expect(counters.get('lo')?.rxBytes).toBe(51049);
    const links = parseIpAddrJson(recorded('ip-j-addr.json'));
    const lo = links.find((l) => l.name === 'lo');
    expect(lo?.addresses).toContainEqual({ family: 'inet', address: '127.0.0.1', prefixLength: 8, scope: 'host' });
    expect(lo?.addresses).toContainEqual({ family: 'inet6', address: '::1', prefixLength: 128, scope: 'host' });
  });
});

describe('network tool parsers', () => {
  it('parses a recorded successful ping', () => {
    const ping = parsePing(recorded('ping-127.0.0.1.txt'));
    expect(ping).toMatchObject({ transmitted: 3, received: 3, lossPercent: 0, rttMs: { min: 0.032, avg: 0.133, max: 0.325, mdev: 0.135 } });
    expect(ping.replies).toHaveLength(3);
  });

  it('parses total loss', () => {
    expect(parsePing(recorded('ping-loss.txt'))).toMatchObject({ transmitted: 3, received: 0, lossPercent: 100, rttMs: null, replies: [] });
  });

  it('parses traceroute hops, with silent hops as null', () => {
    expect(parseTraceroute(recorded('traceroute-127.0.0.1.txt'))).toEqual([{ hop: 1, address: '127.0.0.1', rttMs: 0.18 }]);
    const hops = parseTraceroute(recorded('traceroute-stars.txt'));
    expect(hops.map((h) => h.address)).toEqual(['10.0.0.1', null, '192.168.7.1', null]);
  });
});

describe('log parsers', () => {
  it('parses journalctl -o json lines, byte-array messages and priorities', () => {
    const { entries, unparsed } = parseJournal(recorded('journal.json') + 'not json\n');
    expect(unparsed).toBe(1);
    expect(entries[0]).toMatchObject({ unit: 'nginx.service', identifier: 'nginx', priority: 'info', pid: 812 });
    expect(entries[0].time).toBe('2024-03-11T09:15:02.512Z');
    expect(entries.some((e) => e.message === 'binary\u00e9')).toBe(true);
    expect(journalIsLimited(recorded('journal-limited.stderr'))).toBe(true);
    expect(journalPermissionDenied(recorded('journal-denied.stderr'))).toBe(true);
  });

  it('parses dmesg --json and text', () => {
    const messages = parseDmesgJson(recorded('dmesg-json.json'));
    expect(messages.length).toBeGreaterThan(100);
    expect(messages[0]).toMatchObject({ timeSeconds: 0, level: 'notice' });
    expect(messages[0].message).toMatch(/^Linux version/);
    const text = parseDmesgText(recorded('dmesg-text.txt'));
    expect(text.every((m) => m.timeSeconds !== null)).toBe(true);
    expect(dmesgNotPermitted(recorded('dmesg-not-permitted.stderr'))).toBe(true);
  });

  it('parses ps rows, commands with spaces included', () => {
    const rows = parsePs(recorded('ps-top.txt'));
    expect(rows.length).toBe(recorded('ps-top.txt').trim().split('\n').length);
    expect(rows[0]).toMatchObject({ pid: expect.any(Number), user: expect.any(String), command: expect.any(String) });
    expect(parsePs(' 42 1 www-data 1.5 0.2 100 200 S 30 tmux: server')[0]).toMatchObject({
      pid: 42,
      rssBytes: 102400,
      command: 'tmux: server',
    });
  });

  it('splits syslog lines and keeps only complete lines of a tail', () => {
    expect(parseLogLine('Nov 24 00:29:08 web1 sshd[812]: Accepted publickey for deploy')).toEqual({
      time: 'Nov 24 00:29:08',
      host: 'web1',
      program: 'sshd',
      pid: 812,
      message: 'Accepted publickey for deploy',
    });
    expect(parseLogLine('plain text').message).toBe('plain text');
    expect(lastLines('tial line\na\nb\n', 10, true)).toEqual(['a', 'b']);
    expect(lastLines('a\nb\nc\n', 2, false)).toEqual(['b', 'c']);
  });
});
