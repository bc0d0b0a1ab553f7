import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { globMatcher, PackManifestSchema, type PackManifest } from '@sonde/pack-sdk';
import { describe, expect, it } from 'vitest';
import {
  diagnose,
  diagnoseBinaries,
  diagnoseFiles,
  diagnoseGroups,
  diagnoseHost,
  diagnoseRuntime,
  diagnoseState,
  findBinary,
  gatherServiceGroups,
  gatherFile,
  globBase,
  parseGroupFile,
  supplementaryGroups,
  type AgentFacts,
  type DoctorFacts,
  type IsolationFacts,
  type PackFacts,
  type UserFacts,
} from './doctor.js';
import { permissionChanges, type PackListing } from './store.js';

/** The real manifests, as the build writes them (scripts/write-manifests.mjs). */
const REPO = path.resolve(import.meta.dirname, '../../..');
function manifest(pack: string): PackManifest {
  return PackManifestSchema.parse(JSON.parse(readFileSync(path.join(REPO, 'packs', pack, 'sonde-pack.json'), 'utf8')));
}

const user: UserFacts = { user: 'sonde', groups: ['sonde'], existingGroups: ['root', 'adm', 'sonde', 'systemd-journal'] };
const noAgent: AgentFacts = { running: false, packs: [] };
const goodIsolation: IsolationFacts = {
  mode: 'process',
  namespaces: 'auto',
  userNamespaces: true,
  unshareFound: true,
  setprivWorks: true,
  sysctl: { maxUserNamespaces: 96364 },
};
const trust = { ok: true, storeExists: true, file: '/var/lib/sonde/trust.json' };

function listing(name: string, m: PackManifest, extra: Partial<PackListing> = {}): PackListing {
  return {
    name,
    packageName: `@sonde/pack-${name}`,
    version: m.version,
    state: 'active',
    dir: `/var/lib/sonde/packs/store/@sonde/pack-${name}/${m.version}`,
    versions: [m.version],
    approvedVersion: m.version,
    ...extra,
  };
}

function facts(name: string, extra: Partial<PackListing> = {}, more: Partial<PackFacts> = {}): PackFacts {
  const m = manifest(name);
  const binaries: Record<string, string | null> = {};
  for (const command of m.permissions.commands) binaries[command.binary] = `/usr/bin/${command.binary}`;
  return { listing: listing(name, m, extra), manifest: m, binaries, files: [], ...more };
}

describe('approval state', () => {
  it('a first install waits for approval and says what it asks for', () => {
    const findings = diagnoseState(facts('systemd', { state: 'pending', approvedVersion: undefined }), trust);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      pack: 'systemd',
      severity: 'warn',
      code: 'approval-pending',
      fix: ['sonde packs approve systemd'],
    });
    expect(findings[0]?.problem).toContain('member of group systemd-journal');
    expect(findings[0]?.problem).toMatch(/run systemctl /);
  });

  it('many argument shapes of one binary fold into one line; details keep every one', () => {
    const m = manifest('mysql');
    const [finding] = diagnoseState(facts('mysql', { state: 'pending', approvedVersion: undefined }), trust);
    const shapes = m.permissions.commands.find((command) => command.binary === 'mariadb')?.args.length ?? 0;
    expect(shapes).toBeGreaterThan(2);
    expect(finding?.problem).toContain(`run mariadb (${shapes} argument shapes)`);
    expect(finding?.problem.length).toBeLessThan(300);
    expect(finding?.details).toHaveLength(m.permissions.commands.reduce((sum, command) => sum + command.args.length, 0));
  });

  it('a pending update shows the permission diff while the approved version serves', () => {
    const old = manifest('system');
    const next = PackManifestSchema.parse({
      ...old,
      version: '0.2.0',
      permissions: { ...old.permissions, groups: [...old.permissions.groups, 'docker'], files: old.permissions.files.slice(1) },
    });
    const diff = permissionChanges(old, next);
    const findings = diagnoseState(
      facts('system', {}, { listing: listing('system', old, { pending: { version: '0.2.0', dir: '/x/0.2.0', ...diff } }) }),
      trust,
    );
    expect(findings).toEqual([expect.objectContaining({ code: 'update-pending', severity: 'warn', fix: ['sonde packs approve system'] })]);
    expect(findings[0]?.problem).toContain(`0.2.0 waits for approval while ${old.version} keeps serving`);
    expect(findings[0]?.problem).toContain('it adds: member of group docker');
    expect(findings[0]?.problem).toContain(`it drops: read ${old.permissions.files[0]}`);
  });

  it('a refused newer version names its registry code; a tampered copy is removed, the approved one keeps serving', () => {
    const pending = { version: '0.2.0', dir: '/var/lib/sonde/packs/store/@sonde/pack-docker/0.2.0', added: [], removed: [] };
    const tampered = diagnoseState(
      facts('docker', { pending: { ...pending, refused: { code: 'SONDE_ERR_PACK_FILE_CHANGED', reason: 'dist/index.js differs' } } }),
      trust,
    );
    expect(tampered).toEqual([
      expect.objectContaining({
        code: 'update-refused',
        severity: 'warn',
        verifyCode: 'SONDE_ERR_PACK_FILE_CHANGED',
        fix: [`rm -rf ${pending.dir}   # the refused copy only`, 'sonde packs update docker'],
      }),
    ]);
    const revoked = diagnoseState(
      facts('docker', { pending: { ...pending, refused: { code: 'SONDE_ERR_PACK_VERSION_REVOKED', reason: 'revoked' } } }),
      trust,
    );
    expect(revoked[0]?.fix[0]).toMatch(/^sonde packs update docker/);
  });

  it('an approval whose permissions no longer match asks for a new approval', () => {
    const findings = diagnoseState(facts('nginx', { state: 'pending' }), trust);
    expect(findings[0]).toMatchObject({ code: 'approval-stale', fix: ['sonde packs approve nginx'] });
  });
});

describe('failed verification: one precise fix per registry code', () => {
  const failed = (code: string, reason: string, source?: PackFacts['source']): ReturnType<typeof diagnoseState> =>
    diagnoseState(facts('docker', { state: 'failed', code, reason }, { manifest: undefined, ...(source ? { source } : {}) }), trust);

  it.each(['SONDE_ERR_PACK_FILE_CHANGED', 'SONDE_ERR_PACK_FILE_ADDED', 'SONDE_ERR_PACK_FILE_REMOVED', 'SONDE_ERR_PACK_MANIFEST_MISMATCH'])(
    '%s → reinstall from the recorded source',
    (code) => {
      const findings = failed(code, 'dist/index.js differs from the signed digest', { kind: 'npm', spec: '@sonde/pack-docker@^0.1.0' });
      expect(findings).toEqual([
        expect.objectContaining({
          severity: 'error',
          code: 'verify-failed',
          verifyCode: code,
          fix: ["sonde packs remove docker && sonde packs install '@sonde/pack-docker@^0.1.0'"],
        }),
      ]);
    },
  );

  it('without a recorded source, reinstalls the package at its version', () => {
    expect(failed('SONDE_ERR_PACK_FILE_CHANGED', 'x')[0]?.fix).toEqual([
      'sonde packs remove docker && sonde packs install @sonde/pack-docker@0.1.0',
    ]);
  });

  it('an unknown key → trust the publisher key; no trust store is said so', () => {
    const [finding] = failed('SONDE_ERR_PACK_UNKNOWN_KEY', 'signed by key ed25519:abc, which is not in the trust store');
    expect(finding?.fix[0]).toMatch(/^sonde trust add-key <publisher\.pub\.json>/);
    expect(finding?.fix[0]).toContain('ed25519:abc');
    const none = diagnoseState(
      facts('docker', { state: 'failed', code: 'SONDE_ERR_PACK_UNKNOWN_KEY', reason: 'signed by key k1' }, { manifest: undefined }),
      { storeExists: false },
    );
    expect(none[0]?.problem).toContain('no trust store');
  });

  it.each([
    ['SONDE_ERR_PACK_KEY_REVOKED', /^sonde packs update docker/],
    ['SONDE_ERR_PACK_VERSION_REVOKED', /^sonde packs update docker/],
    ['SONDE_ERR_PACK_KEY_NOT_VALID', /^sonde packs update docker/],
    ['SONDE_ERR_PACK_NOT_ALLOWED', /^sonde trust add-key <publisher\.pub\.json> --allow docker/],
    ['SONDE_ERR_PACK_DENIED', /^sonde trust list/],
    ['SONDE_ERR_PACK_PIN_MISMATCH', /^sonde packs remove docker && sonde packs install/],
    ['SONDE_ERR_PACK_BAD_SIGNATURE', /^sonde packs remove docker && sonde packs install/],
  ])('%s → %s', (code, fix) => {
    const [finding] = failed(code, 'key k1 …');
    expect(finding).toMatchObject({ severity: 'error', verifyCode: code });
    expect(finding?.fix[0]).toMatch(fix);
  });

  it('an integration pack installed on an agent is told to go to the hub', () => {
    const m = manifest('prometheus');
    const findings = diagnoseState(
      {
        listing: listing('prometheus', m, {
          state: 'failed',
          code: 'SONDE_ERR_PACK_INVALID',
          reason: 'prometheus is an integration pack: it runs on the hub, not on an agent.',
        }),
        binaries: {},
        files: [],
      },
      trust,
    );
    expect(findings[0]).toMatchObject({ code: 'hub-pack', severity: 'error' });
    expect(findings[0]?.fix[0]).toMatch(/^sonde packs remove prometheus/);
  });
});

describe('binaries on the agent’s SAFE_PATH', () => {
  it('a pack with none of its binaries is broken and names the Debian package', () => {
    const findings = diagnoseBinaries(facts('docker', {}, { binaries: { docker: null } }));
    expect(findings).toEqual([expect.objectContaining({ severity: 'error', code: 'binary-missing' })]);
    expect(findings[0]?.fix[0]).toMatch(/^sudo apt-get install docker\.io/);
  });

  it.each([
    ['postgres', 'psql', 'sudo apt-get install postgresql-client'],
    ['redis', 'redis-cli', 'sudo apt-get install redis-tools'],
    ['nginx', 'nginx', 'sudo apt-get install nginx'],
    ['systemd', 'journalctl', 'sudo apt-get install systemd'],
  ])('%s: %s → %s', (pack, binary, fix) => {
    const f = facts(pack);
    f.binaries[binary] = null;
    expect(diagnoseBinaries(f).map((finding) => finding.fix[0])).toContain(fix);
  });

  it('mysql with mariadb but no mysql binary is degraded, not broken', () => {
    const findings = diagnoseBinaries(facts('mysql', {}, { binaries: { mariadb: '/usr/bin/mariadb', mysql: null } }));
    expect(findings).toEqual([expect.objectContaining({ severity: 'warn', fix: ['sudo apt-get install mariadb-client'] })]);
  });

  it('falls back to a hint for a binary it has no package for', () => {
    const findings = diagnoseBinaries(facts('system', {}, { binaries: { df: '/usr/bin/df', frobnicate: null } }));
    expect(findings[0]?.fix[0]).toMatch(/install the package that provides frobnicate/);
  });

  it('finds real binaries on SAFE_PATH and not on another PATH', () => {
    expect(findBinary('sh')).toMatch(/\/sh$/);
    expect(findBinary('no-such-binary-sonde')).toBeNull();
    expect(findBinary('sh', '/nonexistent')).toBeNull();
    expect(findBinary('/bin/sh')).toBe('/bin/sh');
  });
});

describe('groups', () => {
  it('the user lacks a declared group → usermod and restart', () => {
    const findings = diagnoseGroups('systemd', manifest('systemd'), user, noAgent);
    expect(findings).toEqual([
      {
        pack: 'systemd',
        severity: 'error',
        code: 'group-missing',
        problem: expect.stringContaining('not in group systemd-journal'),
        fix: ['sudo usermod -aG systemd-journal sonde && sudo systemctl restart sonde'],
      },
    ]);
  });

  it('a group that does not exist on the host (docker not installed) is a warning with the install step', () => {
    const findings = diagnoseGroups('docker', manifest('docker'), user, noAgent);
    expect(findings[0]).toMatchObject({ severity: 'warn', code: 'group-absent' });
    expect(findings[0]?.fix[0]).toMatch(/apt-get install docker\.io/);
  });

  it('a member whose running agent started before joining → restart; the running agent having it → nothing', () => {
    const member = { ...user, groups: ['sonde', 'systemd-journal'] };
    const stale: AgentFacts = { running: true, pid: 4242, groups: ['sonde'], packs: [] };
    expect(diagnoseGroups('systemd', manifest('systemd'), member, stale)).toEqual([
      expect.objectContaining({ code: 'group-not-active', fix: ['sudo systemctl restart sonde'] }),
    ]);
    // SupplementaryGroups= in the unit gives the running agent the group without /etc/group membership.
    const viaUnit: AgentFacts = { running: true, pid: 4242, groups: ['sonde', 'systemd-journal', 'adm'], packs: [] };
    expect(diagnoseGroups('system', manifest('system'), user, viaUnit)).toEqual([]);
    expect(diagnoseGroups('systemd', manifest('systemd'), member, noAgent)).toEqual([]);
  });
});

describe('groups granted by sonde.service (SupplementaryGroups=)', () => {
  it('parses the unit and its drop-ins as systemd does: assignments add, an empty one resets', () => {
    expect(supplementaryGroups(['[Service]\nSupplementaryGroups=systemd-journal adm\n#SupplementaryGroups=docker\n'])).toEqual([
      'systemd-journal',
      'adm',
    ]);
    expect(supplementaryGroups(['SupplementaryGroups=adm\n', '[Service]\nSupplementaryGroups=docker\n'])).toEqual(['adm', 'docker']);
    expect(supplementaryGroups(['SupplementaryGroups=adm\n', 'SupplementaryGroups=\nSupplementaryGroups=docker\n'])).toEqual(['docker']);
  });

  it('reads the shipped unit (agent/deploy) with a drop-in from a real unit folder', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'sonde-units-'));
    try {
      const etc = path.join(root, 'etc');
      const lib = path.join(root, 'lib');
      mkdirSync(path.join(etc, 'sonde.service.d'), { recursive: true });
      mkdirSync(lib);
      writeFileSync(path.join(lib, 'sonde.service'), readFileSync(path.join(REPO, 'agent/deploy/sonde.service')));
      writeFileSync(path.join(etc, 'sonde.service.d', 'docker.conf'), '[Service]\nSupplementaryGroups=docker\n');
      expect(gatherServiceGroups('sonde.service', [etc, lib])).toEqual(['systemd-journal', 'adm', 'docker']);
      expect(gatherServiceGroups('other.service', [etc, lib])).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a group the unit grants is no finding when the agent is stopped, and a restart when the running agent lacks it', () => {
    const viaUnit = { ...user, serviceGroups: ['systemd-journal', 'adm'] };
    expect(diagnoseGroups('system', manifest('system'), viaUnit, noAgent)).toEqual([]);
    const stale: AgentFacts = { running: true, pid: 7, groups: ['sonde', 'adm'], packs: [] };
    expect(diagnoseGroups('systemd', manifest('systemd'), viaUnit, stale)).toEqual([
      expect.objectContaining({ code: 'group-not-active', fix: ['sudo systemctl restart sonde'] }),
    ]);
  });
});

describe('files', () => {
  const nginx = manifest('nginx');
  it('a log readable by a declared group the user lacks → join it; another file → an ACL', () => {
    const findings = diagnoseFiles(
      'nginx',
      nginx,
      [
        {
          glob: '/var/log/nginx/*',
          base: '/var/log/nginx',
          baseExists: true,
          matched: 2,
          unreadable: [{ path: '/var/log/nginx/access.log', directory: false, group: 'adm', groupReadable: true }],
        },
        {
          glob: '/etc/nginx/**',
          base: '/etc/nginx',
          baseExists: true,
          matched: 30,
          unreadable: [{ path: '/etc/nginx/private', directory: true, group: 'root', groupReadable: false }],
        },
      ],
      user,
    );
    expect(findings.map((finding) => finding.fix)).toEqual([
      ['sudo usermod -aG adm sonde && sudo systemctl restart sonde'],
      ['sudo setfacl -R -m u:sonde:rX /etc/nginx/private && sudo setfacl -d -m u:sonde:rX /etc/nginx/private'],
    ]);
    expect(findings[0]).toMatchObject({ severity: 'warn', code: 'file-unreadable' });
  });

  it('a single unreadable file gets a file ACL; a missing folder is not a problem', () => {
    const findings = diagnoseFiles(
      'system',
      manifest('system'),
      [
        {
          glob: '/var/log/syslog',
          base: '/var/log/syslog',
          baseExists: true,
          matched: 1,
          unreadable: [{ path: '/var/log/syslog', directory: false, group: 'root', groupReadable: false }],
        },
        { glob: '/var/log/messages', base: '/var/log/messages', baseExists: false, matched: 0, unreadable: [] },
      ],
      user,
    );
    expect(findings.map((finding) => finding.fix)).toEqual([['sudo setfacl -m u:sonde:r /var/log/syslog']]);
  });

  it('globs: base folder, matching, and a bounded walk of a real tree', () => {
    expect(globBase('/var/log/nginx/*')).toBe('/var/log/nginx');
    expect(globBase('/etc/nginx/**')).toBe('/etc/nginx');
    expect(globBase('/proc/meminfo')).toBe('/proc/meminfo');
    // The doctor matches with the permission guard's matcher (one glob dialect).
    expect(globMatcher('/var/log/*.log')('/var/log/kern.log')).toBe(true);
    expect(globMatcher('/var/log/*.log')('/var/log/apt/history.log')).toBe(false);
    expect(globMatcher('/etc/nginx/**')('/etc/nginx/sites-enabled/default')).toBe(true);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-doctor-'));
    try {
      mkdirSync(path.join(dir, 'sub'));
      writeFileSync(path.join(dir, 'a.log'), 'x');
      writeFileSync(path.join(dir, 'sub', 'b.log'), 'x');
      writeFileSync(path.join(dir, 'c.txt'), 'x');
      expect(gatherFile(`${dir}/*.log`)).toMatchObject({ base: dir, baseExists: true, matched: 1 });
      expect(gatherFile(`${dir}/**`).matched).toBe(4);
      const secret = path.join(dir, 'secret.log');
      writeFileSync(secret, 'x');
      chmodSync(secret, 0o600);
      const fact = gatherFile(`${dir}/*.log`);
      // Root reads everything: only an unprivileged user sees the file as unreadable.
      if (process.getuid?.() !== 0) expect(fact.unreadable.map((entry) => entry.path)).toEqual([secret]);
      else expect(fact.matched).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses /etc/group', () => {
    expect(parseGroupFile('root:x:0:\nadm:x:4:syslog,sonde\n#c\n')).toEqual([
      { name: 'root', gid: 0, members: [] },
      { name: 'adm', gid: 4, members: ['syslog', 'sonde'] },
    ]);
  });
});

describe('what the running agent reports', () => {
  const running = (state: string, reason: string): AgentFacts => ({
    running: true,
    pid: 10,
    packs: [{ name: 'docker', version: '0.1.0', state, reason }],
  });

  it('a quarantined pack → audit, then re-approve to release', () => {
    const findings = diagnoseRuntime(
      'docker',
      running('failed', 'quarantined: 3 limits within 600000 ms (cpu); re-approve to release (sonde packs approve docker)'),
    );
    expect(findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        code: 'sandbox-quarantined',
        fix: [expect.stringMatching(/^sonde audit/), 'sonde packs approve docker   # releases it once you know why'],
      }),
    ]);
  });

  it('sandbox start and load failures, and code that declares other permissions', () => {
    expect(diagnoseRuntime('docker', running('failed', 'sandbox start failed: a symlink leaves the grant'))[0]).toMatchObject({
      code: 'sandbox-failed',
    });
    expect(diagnoseRuntime('docker', running('failed', 'load failed: boom'))[0]).toMatchObject({ code: 'load-failed' });
    expect(
      diagnoseRuntime('docker', running('pending', 'the code declares other permissions than sonde-pack.json; re-approve after review'))[0],
    ).toMatchObject({ code: 'code-differs', severity: 'error' });
    expect(diagnoseRuntime('docker', { ...running('failed', 'load failed: boom'), running: false })).toEqual([]);
  });
});

describe('host: isolation, trust, agent', () => {
  const host = (isolation: Partial<IsolationFacts>, extra: Partial<DoctorFacts> = {}): ReturnType<typeof diagnoseHost> =>
    diagnoseHost({
      trust,
      agent: { running: true, pid: 1, isolation: 'permission-model+userns+netns+pidns', packs: [] },
      isolation: { ...goodIsolation, ...isolation },
      ...extra,
    });

  it('nothing to say when namespaces work and the agent runs', () => {
    expect(host({})).toEqual([]);
  });

  it('no user namespaces → the sysctl that enables them', () => {
    const debian = host({ userNamespaces: false, sysctl: { unprivilegedUsernsClone: 0, maxUserNamespaces: 1000 } });
    expect(debian).toEqual([expect.objectContaining({ code: 'isolation-degraded', severity: 'warn' })]);
    expect(debian[0]?.fix[0]).toMatch(
      /^sudo sysctl -w kernel\.unprivileged_userns_clone=1 && echo kernel\.unprivileged_userns_clone=1 \| sudo tee /,
    );
    expect(host({ userNamespaces: false, sysctl: { maxUserNamespaces: 0 } })[0]?.fix[0]).toMatch(
      /^sudo sysctl -w user\.max_user_namespaces=15000/,
    );
    expect(host({ userNamespaces: false, sysctl: { apparmorRestrictUnprivilegedUserns: 1 } })[0]?.fix[0]).toMatch(
      /kernel\.apparmor_restrict_unprivileged_userns=0/,
    );
    expect(host({ userNamespaces: false, unshareFound: false })[0]?.fix).toEqual(['sudo apt-get install util-linux   # provides unshare']);
  });

  it('the running agent degraded while this user is not → the unit restricts namespaces', () => {
    const findings = host(
      {},
      { agent: { running: true, pid: 1, isolation: 'permission-model: one sandboxed process per pack', packs: [] } },
    );
    expect(findings[0]).toMatchObject({ code: 'isolation-degraded' });
    expect(findings[0]?.fix[0]).toMatch(/RestrictNamespaces/);
  });

  it('in-process mode, namespaces off, no setpriv, no agent', () => {
    expect(host({ mode: 'in-process' }).map((finding) => finding.code)).toEqual(['isolation-in-process']);
    expect(host({ namespaces: 'none', setprivWorks: false }).map((finding) => finding.code)).toEqual([
      'isolation-namespaces-off',
      'setpriv-missing',
    ]);
    expect(host({}, { agent: noAgent }).map((finding) => finding.code)).toEqual(['agent-not-running']);
  });

  it('an invalid trust store is an error with how to start over; a bad revocation list names the hub key', () => {
    const bad = host({}, { trust: { ok: false, storeExists: true, file: '/h/trust.json', reason: '/h/trust.json: Unexpected token' } });
    expect(bad[0]).toMatchObject({ severity: 'error', code: 'trust-invalid' });
    expect(bad[0]?.fix[0]).toMatch(/^mv \/h\/trust\.json \/h\/trust\.json\.broken && sonde trust add-key/);
    const revocations = host(
      {},
      { trust: { ok: false, storeExists: true, file: '/h/trust.json', reason: '/h/revocations.json: bad signature' } },
    );
    expect(revocations[0]?.fix[0]).toMatch(/--role hub/);
  });
});

describe('the whole report', () => {
  const base: Omit<DoctorFacts, 'packs'> = {
    user,
    agent: {
      running: true,
      pid: 1,
      isolation: 'permission-model+userns+netns+pidns',
      groups: ['sonde', 'adm', 'systemd-journal'],
      packs: [],
    },
    isolation: goodIsolation,
    trust,
  };

  it('every pack ok → ok, one ok finding per pack', () => {
    const report = diagnose({ ...base, packs: [facts('systemd'), facts('redis')] });
    expect(report).toMatchObject({ ok: true, severity: 'ok', host: [] });
    expect(report.packs.map((pack) => [pack.name, pack.severity, pack.findings[0]?.code])).toEqual([
      ['systemd', 'ok', 'ok'],
      ['redis', 'ok', 'ok'],
    ]);
  });

  it('one error anywhere → not ok; warnings alone stay ok', () => {
    const broken = diagnose({ ...base, packs: [facts('systemd'), facts('docker', {}, { binaries: { docker: null } })] });
    expect(broken).toMatchObject({ ok: false, severity: 'error' });
    expect(broken.packs.find((pack) => pack.name === 'docker')?.severity).toBe('error');
    const pending = diagnose({ ...base, packs: [facts('redis', { state: 'pending', approvedVersion: undefined })] });
    expect(pending).toMatchObject({ ok: true, severity: 'warn' });
  });

  it('an invalid trust store makes every pack unknown and an error', () => {
    const report = diagnose({ ...base, trust: { ...trust, ok: false, reason: 'bad' }, packs: [facts('redis')] });
    expect(report.ok).toBe(false);
    expect(report.packs[0]).toMatchObject({ state: 'unknown', severity: 'error' });
  });
});
