import { describe, expect, it } from 'vitest';
import { diffPermissions } from './diff.js';

const base = {
  commands: [{ binary: 'docker', args: [['ps', '--format', '<text>']], description: 'list containers' }],
  files: ['/var/log/nginx/*.log'],
  groups: ['docker'],
  network: [{ host: '{endpoint}', protocol: 'https' as const, paths: ['/api/v1/query'] }],
  credentials: [{ name: 'token', description: 'API token' }],
};

describe('diffPermissions', () => {
  it('same permissions (even with reworded descriptions) do not widen', () => {
    const reworded = { ...base, commands: [{ ...base.commands[0], description: 'containers' }] };
    expect(diffPermissions(base, reworded)).toEqual({ added: [], removed: [], widened: false });
  });

  it('fewer permissions do not widen and are listed as removed', () => {
    const diff = diffPermissions(base, { ...base, groups: [], files: [] });
    expect(diff.widened).toBe(false);
    expect(diff.removed.map((change) => change.key)).toEqual(['file:/var/log/nginx/*.log', 'group:docker']);
  });

  it('a new argument shape, file, group, endpoint path or credential widens', () => {
    const next = {
      commands: [
        {
          binary: 'docker',
          args: [
            ['ps', '--format', '<text>'],
            ['inspect', '<name>'],
          ],
        },
      ],
      files: [...base.files, '/etc/shadow'],
      groups: ['docker', 'adm'],
      network: [{ host: '{endpoint}', protocol: 'https' as const, paths: ['/api/v1/query', '/api/v1/admin'] }],
      credentials: [...base.credentials, { name: 'password', description: 'p' }],
    };
    const diff = diffPermissions(base, next);
    expect(diff.widened).toBe(true);
    expect(diff.added.map((change) => change.kind)).toEqual(['command', 'file', 'group', 'network', 'credential']);
    expect(diff.added[0].description).toBe('run docker inspect <name>');
    expect(diff.removed).toEqual([]);
  });

  it('dropping the path list of an endpoint (any path) widens; adding one narrows', () => {
    const anyPath = { ...base, network: [{ host: '{endpoint}', protocol: 'https' as const }] };
    expect(diffPermissions(base, anyPath).widened).toBe(true);
    expect(diffPermissions(anyPath, base)).toMatchObject({ widened: false });
  });

  it('treats a missing permissions block as none', () => {
    expect(diffPermissions(undefined, { files: ['/proc/loadavg'] })).toMatchObject({ widened: true });
    expect(diffPermissions({ files: ['/proc/loadavg'] }, undefined)).toMatchObject({ widened: false });
  });
});
