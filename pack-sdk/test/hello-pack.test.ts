import { describe, expect, it } from 'vitest';
import { PackManifestSchema, packManifestJsonSchema } from '@sonde/pack-sdk';
import { runProbeWithFixtures } from '@sonde/pack-sdk/testing';
import hello from '../examples/hello-pack.js';

const DF = `Filesystem     1024-blocks      Used Available Capacity Mounted on
/dev/sda1         51475068  47000000   1837720      97% /
tmpfs              4038188         0   4038188       0% /dev/shm
/dev/sdb1        103081248  85000000  12814096      87% /var/lib/docker
`;

describe('example pack (README)', () => {
  it('parses recorded df output', async () => {
    const run = await runProbeWithFixtures(
      hello,
      'disk.usage',
      { minPercent: 50 },
      { commands: [{ binary: 'df', args: ['-P', '-k'], stdout: DF }] },
    );
    expect(run.result).toEqual({
      filesystems: [
        { filesystem: '/dev/sda1', mountedOn: '/', sizeKiB: 51475068, usedKiB: 47000000, availableKiB: 1837720, usePercent: 97 },
        {
          filesystem: '/dev/sdb1',
          mountedOn: '/var/lib/docker',
          sizeKiB: 103081248,
          usedKiB: 85000000,
          availableKiB: 12814096,
          usePercent: 87,
        },
      ],
    });
    expect(run.calls.commands).toEqual([{ binary: 'df', args: ['-P', '-k'] }]);
  });

  it('reads a fixture file', async () => {
    const run = await runProbeWithFixtures(
      hello,
      'os.release',
      {},
      { files: { '/etc/os-release': 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n' } },
    );
    expect(run.result).toEqual({ id: 'debian', name: 'Debian GNU/Linux 12 (bookworm)', version: '12' });
  });

  it('turns results into findings with its runbook', async () => {
    const run = await runProbeWithFixtures(hello, 'disk.usage', {}, { commands: [{ binary: 'df', args: ['-P', '-k'], stdout: DF }] });
    const [runbook] = hello.runbooks;
    expect(runbook.evaluate({ 'disk.usage': run.result })).toEqual([
      { severity: 'critical', summary: '/ is 97% full', probe: 'disk.usage' },
      { severity: 'warning', summary: '/var/lib/docker is 87% full', probe: 'disk.usage' },
    ]);
    expect(runbook.evaluate({ 'disk.usage': { error: { code: 'SONDE_ERR_TIMEOUT' } } })[0].severity).toBe('warning');
  });

  it('refuses invalid params before the handler runs', async () => {
    await expect(runProbeWithFixtures(hello, 'disk.usage', { minPercent: 101 }, {})).rejects.toThrow(
      expect.objectContaining({ code: 'SONDE_ERR_INVALID_PARAMS' }),
    );
  });

  it('has a manifest that validates and JSON Schemas with the declared fields', () => {
    const manifest = JSON.parse(JSON.stringify(hello.manifest)) as unknown;
    expect(PackManifestSchema.parse(manifest)).toEqual(hello.manifest);
    const disk = hello.manifest.probes.find((p) => p.name === 'disk.usage')!;
    expect(disk.params).toMatchObject({
      type: 'object',
      properties: { minPercent: { type: 'integer', default: 0, description: expect.any(String) } },
    });
    expect(disk.result).toMatchObject({
      properties: { filesystems: { type: 'array', items: { required: expect.arrayContaining(['mountedOn', 'usePercent']) } } },
    });
    expect(disk.timeoutMs).toBe(10_000);
    const schema = packManifestJsonSchema();
    expect(schema).toMatchObject({ type: 'object', required: expect.arrayContaining(['name', 'version', 'permissions', 'probes']) });
  });
});

describe('harness', () => {
  it('refuses an undeclared command even when a fixture for it exists', async () => {
    const sneaky = { ...hello, probes: new Map(hello.probes) };
    const original = hello.probes.get('disk.usage')!;
    sneaky.probes.set('disk.usage', { ...original, handler: (_p, ctx) => ctx.exec('rm', ['-rf', '/']) });
    await expect(
      runProbeWithFixtures(sneaky, 'disk.usage', {}, { commands: [{ binary: 'rm', args: ['-rf', '/'], stdout: '' }] }),
    ).rejects.toThrow(expect.objectContaining({ code: 'SONDE_ERR_PERMISSION_DENIED' }));
  });

  it('refuses an undeclared file even when a fixture for it exists', async () => {
    const sneaky = { ...hello, probes: new Map(hello.probes) };
    const original = hello.probes.get('os.release')!;
    sneaky.probes.set('os.release', { ...original, handler: (_p, ctx) => ctx.readFile('/etc/shadow') });
    await expect(runProbeWithFixtures(sneaky, 'os.release', {}, { files: { '/etc/shadow': 'root:x' } })).rejects.toThrow(
      expect.objectContaining({ code: 'SONDE_ERR_PERMISSION_DENIED' }),
    );
  });

  it('tells the author which fixture is missing', async () => {
    await expect(runProbeWithFixtures(hello, 'disk.usage', {}, {})).rejects.toThrow(/no recorded output for df/);
  });
});
