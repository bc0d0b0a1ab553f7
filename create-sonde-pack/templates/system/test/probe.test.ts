import { readFileSync } from 'node:fs';
import os from 'node:os';
import { createHostContext, runProbe } from '@sonde/pack-sdk';
import { runProbeWithFixtures } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { OsInfoSchema, parseOsRelease } from '../src/parse.js';

/** Real output recorded on real hosts; record more with `cat /etc/os-release` and `uname -r`. */
const recorded = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('{{packName}}.{{probeName}} on recorded output', () => {
  it('reads a Debian 12 host', async () => {
    const run = await runProbeWithFixtures(
      pack,
      '{{probeName}}',
      {},
      {
        files: { '/etc/os-release': recorded('os-release.debian12') },
        commands: [{ binary: 'uname', args: ['-r'], stdout: recorded('uname-r.txt') }],
      },
    );
    expect(run.result).toEqual({ id: 'debian', name: 'Debian GNU/Linux', version: '12', kernel: '6.1.0-28-amd64' });
    // The harness enforces the declared permissions like a host: this also proves they cover what the probe does.
    expect(run.calls.commands).toEqual([{ binary: 'uname', args: ['-r'] }]);
    expect(run.calls.files).toEqual(['/etc/os-release']);
  });

  it('keeps quoted values with spaces and has no version for a rolling release', () => {
    const fields = parseOsRelease('NAME="Arch Linux"\nID=arch\n# comment\nBUILD_ID=rolling\n');
    expect(fields.get('NAME')).toBe('Arch Linux');
    expect(fields.has('VERSION_ID')).toBe(false);
  });

  it('refuses a parameter it does not declare before running', async () => {
    await expect(runProbeWithFixtures(pack, '{{probeName}}', { path: '/etc/shadow' })).rejects.toMatchObject({
      code: 'SONDE_ERR_INVALID_PARAMS',
    });
  });
});

describe('{{packName}}.{{probeName}} on this host', () => {
  // The harness fakes the host; this runs the same probe through the real host context, as the agent does.
  it.skipIf(process.platform !== 'linux')('returns a valid result that matches the running kernel', async () => {
    const outcome = await runProbe(pack, '{{probeName}}', {}, (signal) =>
      createHostContext({ permissions: pack.manifest.permissions, signal }),
    );
    const result = OsInfoSchema.parse(outcome.result);
    expect(result.kernel).toBe(os.release());
    expect(result.id).not.toBe('');
  });
});
