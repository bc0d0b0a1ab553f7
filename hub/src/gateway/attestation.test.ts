import type { Attestation } from '@sonde/pack-sdk/protocol';
import { describe, expect, it } from 'vitest';
import { compareAttestation, describeOs } from './attestation.js';

const base: Attestation = {
  os: { platform: 'linux', release: '6.1.0', version: '#1', distro: 'debian 12' },
  kernel: '6.1.0',
  arch: 'x64',
  nodeVersion: 'v20.20.0',
  agentVersion: '0.1.0',
  agentCodeSha256: 'a'.repeat(64),
  configSha256: 'b'.repeat(64),
  packs: [
    { name: 'system', version: '1.0.0', sha256: 'c'.repeat(64) },
    { name: 'docker', version: '1.0.0', sha256: 'd'.repeat(64) },
  ],
};

describe('compareAttestation', () => {
  it('the first attestation becomes the baseline; an identical one is unchanged', () => {
    expect(compareAttestation(null, base)).toEqual({ kind: 'first' });
    expect(compareAttestation(base, structuredClone(base))).toEqual({ kind: 'unchanged' });
  });

  it('an agent version change is an upgrade whatever else moved', () => {
    expect(compareAttestation(base, { ...base, agentVersion: '0.2.0', agentCodeSha256: 'e'.repeat(64), packs: [] })).toEqual({
      kind: 'upgraded',
      from: '0.1.0',
      to: '0.2.0',
    });
  });

  it('a downgrade (or a version that does not parse as newer) is a change an admin must accept, never a new baseline', () => {
    for (const agentVersion of ['0.0.9', '0.1.0-rc.1', 'banana']) {
      const verdict = compareAttestation(base, { ...base, agentVersion });
      expect(verdict.kind, agentVersion).toBe('changed');
      expect(verdict.kind === 'changed' && verdict.changes[0]).toContain('not newer');
    }
    expect(compareAttestation(base, { ...base, agentVersion: '0.1.1' }).kind).toBe('upgraded');
  });

  it('names every other change: binary, config, runtime, os and each pack added, removed, re-versioned or re-hashed', () => {
    const verdict = compareAttestation(base, {
      ...base,
      os: { ...base.os, distro: undefined },
      kernel: '6.2.0',
      nodeVersion: 'v22.0.0',
      agentCodeSha256: 'f'.repeat(64),
      configSha256: '0'.repeat(64),
      packs: [
        { name: 'system', version: '1.0.0', sha256: '1'.repeat(64) },
        { name: 'nginx', version: '2.0.0', sha256: '2'.repeat(64) },
      ],
    });
    expect(verdict).toEqual({
      kind: 'changed',
      changes: [
        'os distro debian 12 → none',
        'kernel 6.1.0 → 6.2.0',
        'node v20.20.0 → v22.0.0',
        'agent code sha256 aaaaaaaaaaaa → ffffffffffff',
        'config sha256 bbbbbbbbbbbb → 000000000000',
        'pack system@1.0.0 sha256 cccccccccccc → 111111111111',
        'pack nginx@2.0.0 added',
        'pack docker@1.0.0 removed',
      ],
    });
    expect(compareAttestation(base, { ...base, packs: [{ ...base.packs[0], version: '1.1.0' }, base.packs[1]] })).toEqual({
      kind: 'changed',
      changes: ['pack system 1.0.0 → 1.1.0'],
    });
  });

  it('describes the os in one line', () => {
    expect(describeOs(base)).toBe('debian 12 (linux 6.1.0, x64)');
    expect(describeOs({ ...base, os: { platform: 'darwin', release: '24.1.0', version: 'Darwin Kernel' } })).toBe(
      'darwin 24.1.0 (darwin 6.1.0, x64)',
    );
    expect(describeOs(null)).toBeNull();
  });
});
