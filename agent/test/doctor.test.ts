import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REPO,
  agentHome,
  agentUser,
  ensureBuilt,
  json,
  prepareFixturePack,
  removeDir,
  runCli,
  signedPackCopies,
  spawnAgent,
  type AgentProcess,
  type CliResult,
} from './support/cli.js';
import { gatherServiceGroups } from '../src/packs/doctor.js';
import { startTestHub, type TestHub } from './support/hub-double.js';

/**
 * `sonde packs doctor` against a real SONDE_HOME, run as the unprivileged
 * agent user: real signed packs installed with the CLI, a pending pack, a
 * pack tampered with on disk, and the systemd pack whose group the user lacks.
 */
interface Finding {
  pack: string;
  severity: 'error' | 'warn' | 'ok';
  code: string;
  problem: string;
  fix: string[];
  verifyCode?: string;
}
interface Report {
  ok: boolean;
  severity: string;
  user: string;
  host: Finding[];
  packs: Array<{ name: string; state: string; severity: string; findings: Finding[] }>;
}

const user = agentUser();
const userName = user ? 'sonde' : os.userInfo().username;
const userGroups = execFileSync('id', ['-Gn', userName], { encoding: 'utf8' }).trim().split(/\s+/);
const systemdDir = path.join(REPO, 'packs/systemd');
const systemdBuilt = existsSync(path.join(systemdDir, 'sonde-pack.json')) && existsSync(path.join(systemdDir, 'dist/index.js'));
const groupExists = (group: string): boolean =>
  readFileSync('/etc/group', 'utf8')
    .split('\n')
    .some((line) => line.startsWith(`${group}:`));
// An installed sonde.service granting the group (SupplementaryGroups=) counts as having it.
const lacksJournal =
  groupExists('systemd-journal') && !userGroups.includes('systemd-journal') && !(gatherServiceGroups() ?? []).includes('systemd-journal');

let home: string;
let fixture: string;

const doctor = (args: string[] = []): Promise<CliResult> => runCli(['packs', 'doctor', ...args], { home, user });
const packOf = (report: Report, name: string): Report['packs'][number] | undefined => {
  // A report without packs is an error object: say what it was (a CI run once failed here on "reading 'find'").
  if (!Array.isArray(report.packs)) throw new Error(`sonde packs doctor printed no packs: ${JSON.stringify(report)}`);
  return report.packs.find((pack) => pack.name === name);
};

beforeAll(async () => {
  ensureBuilt();
  home = agentHome(user);
  fixture = await prepareFixturePack(user);
});

afterAll(() => {
  if (home) removeDir(home);
  if (fixture) removeDir(path.dirname(fixture));
});

describe('sonde packs doctor', () => {
  it('with no packs: only the host findings, exit 0', async () => {
    const result = await doctor(['--json']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const report = json<Report>(result);
    expect(report).toMatchObject({ ok: true, user: userName, packs: [] });
    expect(report.host.map((finding) => finding.code)).toContain('agent-not-running');
  });

  it('a pending pack: approve it, with what it asks for', async () => {
    expect((await runCli(['packs', 'install', fixture, '--json'], { home, user })).code).toBe(0);
    const result = await doctor(['fixture', '--json']);
    const report = json<Report>(result);
    const pack = packOf(report, 'fixture');
    expect(pack?.state).toBe('pending');
    expect(pack?.findings).toContainEqual(
      expect.objectContaining({ severity: 'warn', code: 'approval-pending', fix: ['sonde packs approve fixture'] }),
    );
    const pending = pack?.findings.find((finding) => finding.code === 'approval-pending');
    expect(pending?.problem).toContain('run /bin/echo <text>');
    // Pending is a warning: nothing is broken until the operator decides.
    expect(pack?.findings.some((finding) => finding.severity === 'error')).toBe(false);
    expect(result.code).toBe(0);
  });

  it('a pack whose file changed on disk: an error naming the file, reinstall from where it came from, exit 7', async () => {
    const installed = path.join(home, 'packs/store/@sonde/pack-fixture/1.0.0/index.js');
    const original = readFileSync(installed);
    writeFileSync(installed, `${original.toString()}\n// changed\n`);
    try {
      const result = await doctor(['fixture', '--json']);
      expect(result.code).toBe(7);
      const report = json<Report>(result);
      expect(report.ok).toBe(false);
      const pack = packOf(report, 'fixture');
      expect(pack).toMatchObject({ state: 'failed', severity: 'error' });
      const finding = pack?.findings.find((entry) => entry.code === 'verify-failed');
      expect(finding).toMatchObject({
        severity: 'error',
        verifyCode: 'SONDE_ERR_PACK_FILE_CHANGED',
        fix: [`sonde packs remove fixture && sonde packs install ${fixture}`],
      });
      expect(finding?.problem).toContain('index.js');

      const text = await doctor(['fixture']);
      expect(text.code).toBe(7);
      expect(text.stdout).toMatch(/^fixture 1\.0\.0 \(@sonde\/pack-fixture\) failed — error$/m);
      expect(text.stdout).toContain('✗ error verify-failed (SONDE_ERR_PACK_FILE_CHANGED)');
      expect(text.stdout).toContain(`fix: sonde packs remove fixture && sonde packs install ${fixture}`);
    } finally {
      writeFileSync(installed, original);
    }
    // Restored: back to pending, no error.
    expect((await doctor(['fixture', '--json'])).code).toBe(0);
  });

  it.skipIf(!systemdBuilt || !lacksJournal)('an approved pack needing a group the user lacks: usermod and restart, exit 7', async () => {
    const [copy] = await signedPackCopies([systemdDir], user);
    expect((await runCli(['packs', 'install', copy, '--json'], { home, user })).code).toBe(0);
    expect((await runCli(['packs', 'approve', 'systemd', '--json'], { home, user })).code).toBe(0);
    const result = await doctor(['systemd', '--json']);
    expect(result.code, result.stdout + result.stderr).toBe(7);
    const report = json<Report>(result);
    expect(report.packs.map((pack) => pack.name)).toEqual(['systemd']);
    expect(packOf(report, 'systemd')?.state).toBe('active');
    expect(packOf(report, 'systemd')?.findings).toContainEqual({
      pack: 'systemd',
      severity: 'error',
      code: 'group-missing',
      problem: expect.stringContaining(`the ${userName} user is not in group systemd-journal`),
      fix: [`sudo usermod -aG systemd-journal ${userName} && sudo systemctl restart sonde`],
    });
    // systemctl and journalctl are looked up on the agent's SAFE_PATH, not the caller's PATH.
    const binaries = packOf(report, 'systemd')?.findings.filter((finding) => finding.code === 'binary-missing') ?? [];
    expect(binaries.length).toBe(
      ['systemctl', 'journalctl'].filter((b) => !existsSync(`/usr/bin/${b}`) && !existsSync(`/bin/${b}`)).length,
    );

    // Every pack: the whole report groups findings per pack.
    const all = await doctor();
    expect(all.code).toBe(7);
    expect(all.stdout).toMatch(/^systemd \S+ \(@sonde\/pack-systemd\) active — error$/m);
    expect(all.stdout).toMatch(/^fixture 1\.0\.0 \(@sonde\/pack-fixture\) pending — (warn|error)$/m);
    expect(all.stdout).toContain(`fix: sudo usermod -aG systemd-journal ${userName} && sudo systemctl restart sonde`);
  });

  it('an unknown pack is SONDE_ERR_PACK_NOT_FOUND (exit 7), never a stack trace', async () => {
    const result = await doctor(['no-such-pack', '--json']);
    expect(result.code).toBe(7);
    expect(json(result)).toMatchObject({ ok: false, error: { code: 'SONDE_ERR_PACK_NOT_FOUND' } });
  });

  it('an invalid trust store: every pack is an error, with how to start over', async () => {
    const trust = path.join(home, 'trust.json');
    const original = readFileSync(trust);
    writeFileSync(trust, '{ not json');
    try {
      const result = await doctor(['--json']);
      expect(result.code).toBe(7);
      const report = json<Report>(result);
      expect(report.host).toContainEqual(expect.objectContaining({ code: 'trust-invalid', severity: 'error' }));
      expect(report.host.find((finding) => finding.code === 'trust-invalid')?.fix[0]).toMatch(/^mv .*trust\.json .*trust\.json\.broken/);
      expect(packOf(report, 'fixture')).toMatchObject({ state: 'unknown', severity: 'error' });
    } finally {
      writeFileSync(trust, original);
    }
  });
});

describe('sonde packs doctor with a running agent', () => {
  let hub: TestHub;
  let live: string;
  let agent: AgentProcess | undefined;
  const liveDoctor = async (): Promise<{ result: CliResult; report: Report }> => {
    const result = await runCli(['packs', 'doctor', '--json'], { home: live, user });
    return { result, report: json<Report>(result) };
  };
  /** Polls until the report satisfies `done` (the agent publishes status.json within a second of a change). */
  const until = async (done: (report: Report) => boolean, what: string): Promise<{ result: CliResult; report: Report }> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const seen = await liveDoctor();
      if (done(seen.report)) return seen;
      if (Date.now() > deadline) throw new Error(`doctor never showed ${what}: ${seen.result.stdout}`);
      await sleep(300);
    }
  };

  beforeAll(async () => {
    hub = await startTestHub({ heartbeatIntervalMs: 1000 });
    live = agentHome(user);
    const enrolled = await runCli(['enroll', '--hub', hub.baseUrl, '--token', hub.createToken(), '--name', 'doctor', '--json'], {
      home: live,
      user,
    });
    expect(enrolled.code, enrolled.stderr + enrolled.stdout).toBe(0);
    const configFile = path.join(live, 'config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    // One limit trip quarantines the pack.
    writeFileSync(configFile, JSON.stringify({ ...config, sandbox: { mode: 'process', limits: { graceMs: 200, maxTrips: 1 } } }));
    expect((await runCli(['packs', 'install', fixture, '--json'], { home: live, user })).code).toBe(0);
    expect((await runCli(['packs', 'approve', 'fixture', '--json'], { home: live, user })).code).toBe(0);
    agent = spawnAgent({ home: live, user });
    await hub.waitForRegistered();
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await hub?.close();
    if (live) removeDir(live);
  });

  it('sees the running agent, then its quarantine of a pack, and that re-approving releases it', async () => {
    const { report } = await until((r) => !r.host.some((f) => f.code === 'agent-not-running'), 'the running agent');
    expect(packOf(report, 'fixture')).toMatchObject({ state: 'active' });
    expect(packOf(report, 'fixture')?.findings.some((f) => f.severity === 'error')).toBe(false);

    // A probe that outlives its 5 s limit trips wall-time; with maxTrips 1 the agent quarantines the pack.
    const reply = await hub.probe('fixture.sleep', { ms: 30_000 }, { timeoutMs: 20_000 });
    expect(reply.payload.status).not.toBe('ok');
    const quarantined = await until(
      (r) => Boolean(packOf(r, 'fixture')?.findings.some((f) => f.code === 'sandbox-quarantined')),
      'the quarantine',
    );
    expect(quarantined.result.code).toBe(7);
    expect(packOf(quarantined.report, 'fixture')?.findings).toContainEqual(
      expect.objectContaining({
        severity: 'error',
        code: 'sandbox-quarantined',
        fix: ['sonde audit --limit 100   # what tripped, and when', 'sonde packs approve fixture   # releases it once you know why'],
      }),
    );

    expect((await runCli(['packs', 'approve', 'fixture', '--json'], { home: live, user })).code).toBe(0);
    const released = await until((r) => !packOf(r, 'fixture')?.findings.some((f) => f.code === 'sandbox-quarantined'), 'the release');
    expect(released.result.code).toBe(0);
  }, 90_000);
});
