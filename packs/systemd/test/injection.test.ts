import { runProbe, type SondeError } from '@sonde/pack-sdk';
import { createFixtureContext, type CallLog, stringParams } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';

const EVIL = [
  '; rm -rf /',
  '$(id)',
  '`id`',
  '--output=/tmp/x',
  '-H',
  '../../etc/shadow',
  'a\nb',
  'nginx.service --host=evil',
  '--root=/',
  'x'.repeat(300),
  '',
];

const STRING_PARAMS: Array<{ probe: string; param: string; base: Record<string, unknown> }> = [
  { probe: 'units.list', param: 'type', base: {} },
  { probe: 'units.list', param: 'state', base: {} },
  { probe: 'unit.status', param: 'unit', base: {} },
  { probe: 'journal.query', param: 'unit', base: {} },
  { probe: 'journal.query', param: 'priority', base: { unit: 'nginx.service' } },
];

describe('injection attempts on every string param of the systemd pack', () => {
  it('covers every string param the manifest declares', () => {
    const declared = stringParams(pack);
    expect(STRING_PARAMS.map((p) => `${p.probe}.${p.param}`).sort()).toEqual(declared.sort());
  });

  for (const { probe, param, base } of STRING_PARAMS) {
    it(`${probe} ${param}: refused at validation, nothing runs`, async () => {
      for (const value of EVIL) {
        const calls: CallLog = { commands: [], files: [], http: [] };
        const error = await runProbe(pack, probe, { ...base, [param]: value }, (signal) =>
          createFixtureContext(pack, {}, signal, calls),
        ).then(
          () => undefined,
          (e: SondeError) => e,
        );
        expect(error?.code, `${probe} ${param}=${JSON.stringify(value)}`).toBe('SONDE_ERR_INVALID_PARAMS');
        expect(calls.commands).toEqual([]);
      }
    });
  }

  it('a valid unit reaches systemctl after `--` as one argument', async () => {
    const calls: CallLog = { commands: [], files: [], http: [] };
    await runProbe(pack, 'unit.status', { unit: 'getty@tty1.service' }, (signal) => createFixtureContext(pack, {}, signal, calls)).catch(
      () => undefined,
    );
    expect(calls.commands[0].args.slice(-2)).toEqual(['--', 'getty@tty1.service']);
  });

  it('the guard refuses systemctl verbs other than list and show', async () => {
    const ctx = createFixtureContext(pack, {}, new AbortController().signal);
    await expect(Promise.resolve().then(() => ctx.exec('systemctl', ['restart', 'nginx.service']))).rejects.toThrow(/do not fit/);
    await expect(
      Promise.resolve().then(() => ctx.exec('systemctl', ['show', '--no-pager', '--property=Environment', '--', 'nginx.service'])),
    ).rejects.toThrow(/do not fit/);
  });
});
