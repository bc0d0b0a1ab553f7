import { probeNames, runProbeWithFixtures, type CommandFixture } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { LIST_FLAGS, SHOW_PROPERTY_ARGS, TIMER_FLAGS } from '../src/permissions.js';
import { recorded, recordedRun } from './recorded.js';

const show = (unit: string): string[] => ['show', '--no-pager', ...SHOW_PROPERTY_ARGS, '--', unit];
const JOURNAL = ['--no-pager', '--output=json', '--lines=100', '--unit=nginx.service'];

const ok: CommandFixture[] = [
  { binary: 'systemctl', args: LIST_FLAGS, stdout: recorded('list-units-all.txt') },
  {
    binary: 'systemctl',
    args: [...LIST_FLAGS, '--type=service'],
    stdout: recorded('list-units-all.txt')
      .split('\n')
      .filter((l) => l.includes('.service'))
      .join('\n'),
  },
  { binary: 'systemctl', args: [...LIST_FLAGS, '--type=service', '--state=running'], stdout: '' },
  { binary: 'systemctl', args: [...LIST_FLAGS, '--state=failed'], stdout: recorded('list-units-failed.txt') },
  { binary: 'systemctl', args: show('nginx.service'), stdout: recorded('show-nginx.txt') },
  { binary: 'systemctl', args: show('nosuch.service'), stdout: recorded('show-missing.txt') },
  { binary: 'systemctl', args: TIMER_FLAGS, stdout: recorded('list-timers.txt') },
  { binary: 'journalctl', args: JOURNAL, stdout: recorded('journal-nginx.json') },
  {
    binary: 'journalctl',
    args: ['--no-pager', '--output=json', '--lines=3', '--unit=nginx.service', '--since=-60min', '--priority=4'],
    stdout: recorded('journal-nginx.json'),
  },
];

const params: Record<string, unknown> = { 'unit.status': { unit: 'nginx.service' }, 'journal.query': { unit: 'nginx.service' } };

describe('systemd pack manifest', () => {
  it('declares five probes and detects systemd by /run/systemd/system', () => {
    expect(probeNames(pack)).toEqual([
      'systemd.units.list',
      'systemd.units.failed',
      'systemd.unit.status',
      'systemd.journal.query',
      'systemd.timers.list',
    ]);
    expect(pack.manifest.detect.files).toEqual(['/run/systemd/system']);
    expect(pack.manifest.permissions.groups).toEqual(['systemd-journal']);
  });
});

describe('systemd probes on recorded outputs', () => {
  it('units.list with counts, type and state filters and a limit', async () => {
    const all = await runProbeWithFixtures<{ counts: Record<string, number>; total: number }>(pack, 'units.list', {}, { commands: ok });
    expect(all.result.counts).toEqual({ active: 10, failed: 1, activating: 1, inactive: 1 });
    const limited = await runProbeWithFixtures<{ units: unknown[]; truncated: boolean; total: number }>(
      pack,
      'units.list',
      { type: 'service', limit: 2 },
      { commands: ok },
    );
    expect(limited.result).toMatchObject({ total: 8, truncated: true });
    expect(limited.result.units).toHaveLength(2);
    const filtered = await runProbeWithFixtures(pack, 'units.list', { type: 'service', state: 'running' }, { commands: ok });
    expect(filtered.calls.commands[0].args.slice(-2)).toEqual(['--type=service', '--state=running']);
  });

  it('units.failed', async () => {
    expect((await runProbeWithFixtures(pack, 'units.failed', {}, { commands: ok })).result).toMatchObject({
      count: 1,
      units: [{ unit: 'backup.service' }],
    });
  });

  it('unit.status for a running and a missing unit', async () => {
    expect((await runProbeWithFixtures(pack, 'unit.status', { unit: 'nginx.service' }, { commands: ok })).result).toMatchObject({
      exists: true,
      subState: 'running',
    });
    expect((await runProbeWithFixtures(pack, 'unit.status', { unit: 'nosuch.service' }, { commands: ok })).result).toMatchObject({
      exists: false,
    });
  });

  it('journal.query with filters, and the limited view flag', async () => {
    const { result } = await runProbeWithFixtures<{ entries: unknown[]; countsByPriority: Record<string, number> }>(
      pack,
      'journal.query',
      { unit: 'nginx.service' },
      { commands: ok },
    );
    expect(result.entries).toHaveLength(3);
    expect(result.countsByPriority).toEqual({ info: 1, err: 1, warning: 1 });
    const filtered = await runProbeWithFixtures<{ truncated: boolean }>(
      pack,
      'journal.query',
      { unit: 'nginx.service', lines: 3, sinceMinutes: 60, priority: 'warning' },
      { commands: ok },
    );
    expect(filtered.result.truncated).toBe(true);
    const limited = await runProbeWithFixtures<{ limitedView: boolean }>(
      pack,
      'journal.query',
      { unit: 'nginx.service' },
      {
        commands: [{ binary: 'journalctl', args: JOURNAL, stdout: '', stderr: recorded('journal-limited.stderr') }],
      },
    );
    expect(limited.result.limitedView).toBe(true);
  });

  it('timers.list', async () => {
    const { result } = await runProbeWithFixtures<{ timers: unknown[] }>(pack, 'timers.list', {}, { commands: ok });
    expect(result.timers).toHaveLength(4);
  });

  it('every systemctl probe reports a host without systemd as a clear error', async () => {
    const notBooted = recordedRun('list-units-no-systemd');
    const commands = ok.filter((c) => c.binary === 'systemctl').map((c) => ({ ...c, ...notBooted }));
    for (const probe of ['units.list', 'units.failed', 'unit.status', 'timers.list']) {
      await expect(runProbeWithFixtures(pack, probe, params[probe] ?? {}, { commands }), probe).rejects.toMatchObject({
        code: 'SONDE_ERR_COMMAND_FAILED',
        message: expect.stringMatching(/systemd is not the init system/),
      });
    }
  });

  it('journal.query without the journal group is a permission error', async () => {
    await expect(
      runProbeWithFixtures(
        pack,
        'journal.query',
        { unit: 'nginx.service' },
        { commands: [{ binary: 'journalctl', args: JOURNAL, stderr: recorded('journal-denied.stderr'), exitCode: 1 }] },
      ),
    ).rejects.toMatchObject({ code: 'SONDE_ERR_PERMISSION_DENIED' });
  });
});
