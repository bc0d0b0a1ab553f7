import type { PermissionsInput } from '@sonde/pack-sdk';

/**
 * Go templates passed as literal arguments. `{{json .}}` on `docker ps` makes
 * the CLI ask the daemon for sizes (`size=1`), which walks every layer; this
 * template names the fields instead so listing stays cheap (the manifest
 * caps an argument at 256 characters, hence no Command or Mounts: see inspect).
 */
export const PS_FORMAT =
  '{"ID":{{json .ID}},"Names":{{json .Names}},"Image":{{json .Image}},"CreatedAt":{{json .CreatedAt}},"State":{{json .State}},"Status":{{json .Status}},"Ports":{{json .Ports}},"Networks":{{json .Networks}},"Labels":{{json .Labels}}}';
export const JSON_FORMAT = '{{json .}}';

export const permissions: PermissionsInput = {
  commands: [
    {
      binary: 'docker',
      args: [
        ['container', 'ls', '--all', '--no-trunc', '--format', PS_FORMAT],
        ['container', 'ls', '--no-trunc', '--format', PS_FORMAT],
        ['container', 'inspect', '<name>'],
        ['container', 'logs', '--timestamps', '--tail', '<uint>', '<name>'],
        ['container', 'logs', '--timestamps', '--tail', '<uint>', '--since', '<uint>m', '<name>'],
        ['image', 'ls', '--no-trunc', '--format', JSON_FORMAT],
        ['info', '--format', JSON_FORMAT],
        ['container', 'stats', '--no-stream', '--no-trunc', '--format', JSON_FORMAT],
        ['container', 'stats', '--no-stream', '--no-trunc', '--format', JSON_FORMAT, '<name>'],
      ],
      description: 'Read-only docker CLI calls: list, inspect, logs, images, info, stats.',
    },
  ],
  files: [],
  groups: ['docker'],
};
