import type { PermissionsInput } from '@sonde/pack-sdk';

export const CONFIG_GLOB = '/etc/nginx/**';
export const LOG_GLOB = '/var/log/nginx/*';
export const DEFAULT_CONFIG = '/etc/nginx/nginx.conf';
export const STATUS_PATHS = ['/nginx_status', '/basic_status', '/stub_status'] as const;

export const permissions: PermissionsInput = {
  commands: [
    {
      binary: 'nginx',
      // <path> arguments must also match the file globs below, so -c only accepts configs under /etc/nginx.
      args: [['-t'], ['-t', '-c', '<path>'], ['-V']],
      description: 'Configuration test and build information; never starts, stops or signals nginx.',
    },
  ],
  files: [CONFIG_GLOB, LOG_GLOB],
  groups: ['adm'],
  network: [
    { host: '{endpoint}', protocol: 'http', paths: [...STATUS_PATHS] },
    { host: '127.0.0.1', port: 80, protocol: 'http', paths: [...STATUS_PATHS] },
  ],
};
