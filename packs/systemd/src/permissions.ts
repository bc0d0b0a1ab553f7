import type { PermissionsInput } from '@sonde/pack-sdk';

export const UNIT_TYPES = [
  'service',
  'socket',
  'timer',
  'mount',
  'target',
  'path',
  'slice',
  'scope',
  'device',
  'swap',
  'automount',
] as const;
export const UNIT_STATES = [
  'active',
  'inactive',
  'failed',
  'activating',
  'deactivating',
  'running',
  'exited',
  'dead',
  'waiting',
  'auto-restart',
] as const;

export const LIST_FLAGS = ['list-units', '--all', '--plain', '--no-legend', '--no-pager', '--full'];
export const TIMER_FLAGS = ['list-timers', '--all', '--plain', '--no-legend', '--no-pager', '--full'];

/** Properties `unit.status` reads, as literal arguments, so nothing else can be asked for. */
const PROPERTIES = [
  'Id',
  'Description',
  'LoadState',
  'ActiveState',
  'SubState',
  'UnitFileState',
  'FragmentPath',
  'Type',
  'Restart',
  'NRestarts',
  'Result',
  'MainPID',
  'ExecMainCode',
  'ExecMainStatus',
  'ExecMainStartTimestamp',
  'ExecMainExitTimestamp',
  'ActiveEnterTimestamp',
  'InactiveEnterTimestamp',
  'StateChangeTimestamp',
  'MemoryCurrent',
  'CPUUsageNSec',
  'TasksCurrent',
];

/** `--property=` arguments of at most 256 characters each (the manifest's per-argument cap). */
export const SHOW_PROPERTY_ARGS: string[] = PROPERTIES.reduce<string[][]>((groups, name) => {
  const last = groups.at(-1);
  if (last && `--property=${[...last, name].join(',')}`.length <= 256) last.push(name);
  else groups.push([name]);
  return groups;
}, []).map((group) => `--property=${group.join(',')}`);

function optionalShapes(prefix: string[], optional: string[][]): string[][] {
  const shapes: string[][] = [];
  for (let mask = 0; mask < 1 << optional.length; mask++) {
    shapes.push([...prefix, ...optional.flatMap((tokens, i) => (mask & (1 << i) ? tokens : []))]);
  }
  return shapes;
}

export const permissions: PermissionsInput = {
  commands: [
    {
      binary: 'systemctl',
      args: [
        ...optionalShapes(LIST_FLAGS, [['--type=<name>'], ['--state=<name>']]),
        TIMER_FLAGS,
        ['show', '--no-pager', ...SHOW_PROPERTY_ARGS, '--', '<name>'],
      ],
      description: 'Lists units and timers, shows fixed properties of one unit. No start/stop/enable.',
    },
    {
      binary: 'journalctl',
      args: optionalShapes(
        ['--no-pager', '--output=json', '--lines=<uint>', '--unit=<name>'],
        [['--since=-<uint>min'], ['--priority=<uint>']],
      ),
      description: 'Recent journal entries of one unit as JSON.',
    },
  ],
  files: [],
  groups: ['systemd-journal'],
};
