import type { PermissionsInput } from '@sonde/pack-sdk';

/** Files under /proc the probes read; procfs reports size 0, see proc.ts. */
export const PROC_FILES = ['/proc/meminfo', '/proc/loadavg', '/proc/stat', '/proc/uptime', '/proc/cpuinfo', '/proc/net/dev'] as const;

/**
 * /proc/net is a symlink to /proc/self/net, whose real path names the reading
 * process; declaring that would mean a glob over every pid. These are read with
 * `cat` and a literal path instead.
 */
export const CAT_ONLY_PROC_FILES: readonly string[] = ['/proc/net/dev'];

/** Log files `logs.tail` may read. The host's deny list still wins over these. */
export const LOG_GLOBS = ['/var/log/*.log', '/var/log/syslog', '/var/log/messages'] as const;

/**
 * journalctl argv shapes: a fixed prefix, then optional unit, since and
 * priority in that order, so every combination the probe can build is listed
 * and nothing else fits.
 */
function journalShapes(): string[][] {
  const shapes: string[][] = [];
  for (const unit of [false, true]) {
    for (const since of [false, true]) {
      for (const priority of [false, true]) {
        shapes.push([
          '--no-pager',
          '--output=json',
          '--lines=<uint>',
          ...(unit ? ['--unit=<name>'] : []),
          ...(since ? ['--since=-<uint>min'] : []),
          ...(priority ? ['--priority=<uint>'] : []),
        ]);
      }
    }
  }
  return shapes;
}

export const PS_FORMAT = 'pid,ppid,user:32,pcpu,pmem,rss,vsz,stat,etimes,comm';

export const permissions: PermissionsInput = {
  commands: [
    {
      binary: 'df',
      args: [
        ['-P', '-k'],
        ['-P', '-i'],
      ],
      description: 'Filesystem space and inode usage (POSIX output).',
    },
    { binary: 'ip', args: [['-j', 'addr', 'show']], description: 'Interface addresses as JSON.' },
    { binary: 'ping', args: [['-n', '-c', '<uint>', '-W', '<uint>', '<host>']], description: 'ICMP reachability of one host.' },
    { binary: 'traceroute', args: [['-n', '-q', '1', '-w', '<uint>', '-m', '<uint>', '<host>']], description: 'Route to one host.' },
    { binary: 'journalctl', args: journalShapes(), description: 'Recent journal entries as JSON.' },
    { binary: 'dmesg', args: [['--json'], []], description: 'Kernel ring buffer (JSON, or text on util-linux < 2.38).' },
    {
      binary: 'ps',
      args: [
        ['-e', '-o', PS_FORMAT, '--sort=-pcpu', '--no-headers'],
        ['-e', '-o', PS_FORMAT, '--sort=-rss', '--no-headers'],
      ],
      description: 'Process table with fixed columns.',
    },
    {
      binary: 'cat',
      args: PROC_FILES.map((file) => [file]),
      description: 'Reads procfs files whose size the host reports as 0 (fixed paths only).',
    },
  ],
  files: [...PROC_FILES.filter((file) => !CAT_ONLY_PROC_FILES.includes(file)), ...LOG_GLOBS],
  groups: ['adm', 'systemd-journal'],
};
