import { runProbe, type SondeError } from '@sonde/pack-sdk';
import { createFixtureContext, type CallLog, stringParams } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';

const EVIL = [
  '; rm -rf /',
  '$(id)',
  '`id`',
  '--output=/tmp/x',
  '-n',
  '../../etc/shadow',
  '/var/log/../../etc/shadow',
  'a\nb',
  'a b',
  'x'.repeat(5000),
  '',
];

/** Every string parameter of every probe, with the other params a valid call needs. */
const STRING_PARAMS: Array<{ probe: string; param: string; base: Record<string, unknown> }> = [
  { probe: 'network.ping', param: 'host', base: {} },
  { probe: 'network.traceroute', param: 'host', base: {} },
  { probe: 'logs.journal', param: 'unit', base: {} },
  { probe: 'logs.journal', param: 'priority', base: {} },
  { probe: 'logs.dmesg', param: 'minLevel', base: {} },
  { probe: 'logs.tail', param: 'path', base: {} },
  { probe: 'processes.top', param: 'sortBy', base: {} },
];

describe('injection attempts on every string param of the system pack', () => {
  it('covers every string param the manifest declares', () => {
    const declared = stringParams(pack);
    expect(STRING_PARAMS.map((p) => `${p.probe}.${p.param}`).sort()).toEqual(declared.sort());
  });

  for (const { probe, param, base } of STRING_PARAMS) {
    it(`${probe} ${param}: refused at validation or passed as one inert argument`, async () => {
      for (const value of EVIL) {
        const calls: CallLog = { commands: [], files: [], http: [] };
        const error = await runProbe(pack, probe, { ...base, [param]: value }, (signal) =>
          createFixtureContext(pack, {}, signal, calls),
        ).then(
          () => undefined,
          (e: SondeError) => e,
        );
        expect(error, `${probe} ${param}=${JSON.stringify(value)} must not succeed on empty fixtures`).toBeDefined();
        if (error!.code === 'SONDE_ERR_INVALID_PARAMS') {
          expect(calls.commands).toEqual([]);
          expect(calls.files).toEqual([]);
          continue;
        }
        // Anything that got past validation reached the host only as one whole argument.
        for (const call of calls.commands) {
          for (const arg of call.args) {
            if (value && arg.includes(value)) expect(arg === value || (/^--[a-z]+=/.test(arg) && arg.endsWith(value))).toBe(true);
          }
        }
        for (const file of calls.files) expect(file.split('/')).not.toContain('..');
      }
    });
  }

  it('a valid host and unit reach the command as single argv elements', async () => {
    const calls: CallLog = { commands: [], files: [], http: [] };
    await runProbe(pack, 'network.ping', { host: 'example.com' }, (signal) => createFixtureContext(pack, {}, signal, calls)).catch(
      () => undefined,
    );
    expect(calls.commands).toEqual([{ binary: 'ping', args: ['-n', '-c', '3', '-W', '2', 'example.com'] }]);
  });

  it('the host guard refuses argv a probe did not declare even if a handler built it', async () => {
    const ctx = createFixtureContext(pack, {}, new AbortController().signal);
    await expect(Promise.resolve().then(() => ctx.exec('ping', ['-n', '-c', '3', '-W', '2', '--help']))).rejects.toThrow(/do not fit/);
    await expect(
      Promise.resolve().then(() => ctx.exec('journalctl', ['--no-pager', '--output=json', '--lines=5', '--unit=-x'])),
    ).rejects.toThrow(/do not fit/);
  });
});
