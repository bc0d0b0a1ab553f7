import { describe, expect, it } from 'vitest';
import { PermissionsSchema } from '../manifest/permissions.js';
import { checkCommand, checkFileRead } from './guard.js';

const permissions = PermissionsSchema.parse({
  commands: [{ binary: 'tail', args: [['-n', '<uint>', '<path>']] }],
  files: ['/var/log/*.log'],
});

describe('checkCommand', () => {
  it('accepts an argv that fits a declared shape', () => {
    expect(() => checkCommand(permissions, 'tail', ['-n', '50', '/var/log/syslog.log'])).not.toThrow();
  });

  it.each([
    ['undeclared binary', 'cat', ['/etc/shadow']],
    ['shell metacharacters in a number slot', 'tail', ['-n', '5; rm -rf /', '/var/log/a.log']],
    ['an extra argument', 'tail', ['-n', '5', '/var/log/a.log', '/etc/shadow']],
    ['a path outside the declared files', 'tail', ['-n', '5', '/etc/shadow']],
    ['path traversal', 'tail', ['-n', '5', '/var/log/../../etc/shadow']],
    ['an option smuggled into a path slot', 'tail', ['-n', '5', '--follow=/var/log/a.log']],
  ])('refuses %s', (_label, binary, args) => {
    expect(() => checkCommand(permissions, binary, args)).toThrow(expect.objectContaining({ code: 'SONDE_ERR_PERMISSION_DENIED' }));
  });
});

describe('checkFileRead', () => {
  it('refuses host-protected paths even when a glob matches', () => {
    const broad = PermissionsSchema.parse({ files: ['/home/**'] });
    expect(() => checkFileRead(broad, '/home/sonde/.sonde/agent.key', ['/home/sonde/.sonde'])).toThrow(/protected/);
  });
});
