import { describe, expect, it } from 'vitest';
import { systemdFailure } from '../src/parsers/errors.js';
import { journalIsLimited, parseJournal } from '../src/parsers/journal.js';
import { parseListUnits, parseListUnitsJson } from '../src/parsers/list-units.js';
import { parseShow, toUnitStatus } from '../src/parsers/show.js';
import { parseTimers } from '../src/parsers/timers.js';
import { recorded, recordedRun } from './recorded.js';

describe('systemd error outputs (recorded with systemd 252 where systemd is not PID 1)', () => {
  it('systemctl without systemd as init', () => {
    for (const name of ['list-units-no-systemd', 'show-no-systemd']) {
      const run = recordedRun(name);
      expect(run.exitCode).toBe(1);
      expect(systemdFailure('systemctl', run.stderr, run.exitCode)).toMatchObject({
        code: 'SONDE_ERR_COMMAND_FAILED',
        message: 'systemctl: systemd is not the init system (PID 1) on this host, so there are no units to query',
      });
    }
  });

  it('journalctl without the systemd-journal group', () => {
    expect(systemdFailure('journalctl', recorded('journal-denied.stderr'), 1)).toMatchObject({
      code: 'SONDE_ERR_PERMISSION_DENIED',
      message: expect.stringMatching(/systemd-journal group/),
    });
    expect(journalIsLimited(recorded('journal-limited.stderr'))).toBe(true);
  });

  it('journalctl on a host without journal files prints nothing and exits 0', () => {
    const run = recordedRun('journal-unprivileged');
    expect(run.exitCode).toBe(0);
    expect(parseJournal(run.stdout)).toEqual({ entries: [], unparsed: 0 });
  });
});

describe('systemctl parsers', () => {
  it('list-units plain rows, with the failed marker and multi-word descriptions', () => {
    const rows = parseListUnits(recorded('list-units-all.txt'));
    expect(rows).toHaveLength(13);
    expect(rows.find((r) => r.unit === 'backup.service')).toEqual({
      unit: 'backup.service',
      load: 'loaded',
      active: 'failed',
      sub: 'failed',
      description: 'Nightly backup',
    });
    expect(rows.find((r) => r.unit === '-.mount')?.description).toBe('Root Mount');
    expect(rows.find((r) => r.unit === 'syslog.service')?.load).toBe('not-found');
    expect(parseListUnits(recorded('list-units-failed.txt'))).toHaveLength(1);
    expect(parseListUnitsJson(recorded('list-units.json')).map((r) => r.active)).toEqual(['active', 'failed', 'active']);
  });

  it('show: running, failed and missing units', () => {
    expect(toUnitStatus('nginx.service', parseShow(recorded('show-nginx.txt')))).toMatchObject({
      exists: true,
      activeState: 'active',
      subState: 'running',
      unitFileState: 'enabled',
      mainPid: 812,
      memoryBytes: 18214912,
      cpuSeconds: 1.532,
      tasks: 3,
      inactiveSince: null,
    });
    expect(toUnitStatus('backup.service', parseShow(recorded('show-backup-failed.txt')))).toMatchObject({
      activeState: 'failed',
      result: 'exit-code',
      execMainStatus: 1,
      mainPid: null,
      memoryBytes: null,
      tasks: null,
    });
    expect(toUnitStatus('nosuch.service', parseShow(recorded('show-missing.txt')))).toMatchObject({
      exists: false,
      loadState: 'not-found',
      fragmentPath: null,
    });
  });

  it('list-timers rows, including inactive timers', () => {
    const timers = parseTimers(recorded('list-timers.txt'));
    expect(timers).toHaveLength(4);
    expect(timers[2]).toEqual({
      next: 'Tue 2024-03-12 06:41:17 UTC',
      left: '21h left',
      last: 'Mon 2024-03-11 06:52:01 UTC',
      passed: '2h 23min ago',
      unit: 'apt-daily-upgrade.timer',
      activates: 'apt-daily-upgrade.service',
    });
    expect(timers[3]).toMatchObject({ next: null, last: null, unit: 'backup.timer' });
  });

  it('journal entries', () => {
    const { entries } = parseJournal(recorded('journal-nginx.json'));
    expect(entries.map((e) => e.priority)).toEqual(['info', 'err', 'warning']);
  });
});
