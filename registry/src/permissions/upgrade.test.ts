import { describe, expect, it } from 'vitest';
import { compareVersions, decideUpgrade, isDowngrade } from './upgrade.js';

const approved = {
  version: '1.2.0',
  permissions: { files: ['/var/log/nginx/*.log'], groups: ['adm'], commands: [], network: [], credentials: [] },
};

describe('decideUpgrade (the agent and the hub apply this one rule)', () => {
  it('a first version waits for approval, with every permission it asks for as added', () => {
    const decision = decideUpgrade(undefined, approved);
    expect(decision).toMatchObject({ outcome: 'pending', why: 'first' });
    expect(decision.diff.added.map((c) => c.key)).toEqual(['file:/var/log/nginx/*.log', 'group:adm']);
  });

  it('a newer version with the same permissions activates', () => {
    expect(decideUpgrade(approved, { ...approved, version: '1.3.0' })).toMatchObject({ outcome: 'active', why: 'same-or-fewer' });
  });

  it('a newer version with fewer permissions activates and lists what it gives up', () => {
    const decision = decideUpgrade(approved, { version: '2.0.0', permissions: { ...approved.permissions, groups: [] } });
    expect(decision).toMatchObject({ outcome: 'active', why: 'same-or-fewer' });
    expect(decision.diff.removed.map((c) => c.key)).toEqual(['group:adm']);
  });

  it('a newer version that asks for more waits, naming what it adds', () => {
    const decision = decideUpgrade(approved, {
      version: '1.2.1',
      permissions: { ...approved.permissions, files: [...approved.permissions.files, '/etc/shadow'] },
    });
    expect(decision).toMatchObject({ outcome: 'pending', why: 'more' });
    expect(decision.diff.added.map((c) => c.key)).toEqual(['file:/etc/shadow']);
  });

  it('an older version is refused unless a downgrade is asked for; then the permission rule applies to it', () => {
    expect(decideUpgrade(approved, { ...approved, version: '1.1.9' })).toMatchObject({ outcome: 'refused', why: 'downgrade' });
    expect(decideUpgrade(approved, { ...approved, version: '1.2.0-rc.1' })).toMatchObject({ outcome: 'refused' });
    expect(decideUpgrade(approved, { ...approved, version: '1.1.9' }, { allowDowngrade: true })).toMatchObject({ outcome: 'active' });
    const wider = { version: '1.0.0', permissions: { ...approved.permissions, groups: ['adm', 'docker'] } };
    expect(decideUpgrade(approved, wider, { allowDowngrade: true })).toMatchObject({ outcome: 'pending', why: 'more' });
  });

  it('the same version again is no downgrade', () => {
    expect(decideUpgrade(approved, approved)).toMatchObject({ outcome: 'active' });
    expect(isDowngrade('1.2.0', '1.2.0')).toBe(false);
    expect(isDowngrade(undefined, '0.0.1')).toBe(false);
  });
});

describe('compareVersions (semver precedence)', () => {
  it.each([
    ['1.0.0', '0.9.9', 1],
    ['0.1.1', '0.1.0', 1],
    ['0.10.0', '0.9.0', 1],
    ['1.0.0', '1.0.0-rc.1', 1],
    ['1.0.0-rc.2', '1.0.0-rc.10', -1],
    ['1.0.0-alpha', '1.0.0-1', 1],
    ['1.0.0+build.5', '1.0.0', 0],
    ['2.0.0', '2.0.0', 0],
    // The manifest schema admits leading zeros; ordering them must not throw.
    ['01.0.0', '1.0.0', 0],
  ])('%s vs %s → %i', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
    expect(compareVersions(b, a)).toBe(-expected || 0);
  });
});
