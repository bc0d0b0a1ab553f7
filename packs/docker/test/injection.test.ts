import { runProbe, type SondeError } from '@sonde/pack-sdk';
import { createFixtureContext, type CallLog, stringParams } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';

const EVIL = [
  '; rm -rf /',
  '$(id)',
  '`id`',
  '--output=/tmp/x',
  '-f',
  '../../etc/shadow',
  'a\nb',
  'web --privileged',
  'web;id',
  '{{json .Config.Env}}',
  '',
];

const STRING_PARAMS: Array<{ probe: string; param: string }> = [
  { probe: 'container.inspect', param: 'container' },
  { probe: 'container.logs', param: 'container' },
  { probe: 'container.stats', param: 'container' },
];

describe('injection attempts on every string param of the docker pack', () => {
  it('covers every string param the manifest declares', () => {
    const declared = stringParams(pack);
    expect(STRING_PARAMS.map((p) => `${p.probe}.${p.param}`).sort()).toEqual(declared.sort());
  });

  for (const { probe, param } of STRING_PARAMS) {
    it(`${probe} ${param}: refused at validation, nothing runs`, async () => {
      for (const value of EVIL) {
        const calls: CallLog = { commands: [], files: [], http: [] };
        const error = await runProbe(pack, probe, { [param]: value }, (signal) => createFixtureContext(pack, {}, signal, calls)).then(
          () => undefined,
          (e: SondeError) => e,
        );
        expect(error?.code, `${probe} ${param}=${JSON.stringify(value)}`).toBe('SONDE_ERR_INVALID_PARAMS');
        expect(calls.commands).toEqual([]);
      }
    });
  }

  it('a valid name reaches docker as the last, single argument', async () => {
    const calls: CallLog = { commands: [], files: [], http: [] };
    await runProbe(pack, 'container.logs', { container: 'my-app_1.web' }, (signal) => createFixtureContext(pack, {}, signal, calls)).catch(
      () => undefined,
    );
    expect(calls.commands).toEqual([{ binary: 'docker', args: ['container', 'logs', '--timestamps', '--tail', '200', 'my-app_1.web'] }]);
  });

  it('the guard refuses docker argv outside the declared read-only shapes', async () => {
    const ctx = createFixtureContext(pack, {}, new AbortController().signal);
    await expect(Promise.resolve().then(() => ctx.exec('docker', ['container', 'rm', 'web']))).rejects.toThrow(/do not fit/);
    await expect(
      Promise.resolve().then(() => ctx.exec('docker', ['container', 'inspect', '--format', '{{json .Config.Env}}'])),
    ).rejects.toThrow(/do not fit/);
    await expect(
      Promise.resolve().then(() => ctx.exec('docker', ['container', 'logs', '--timestamps', '--tail', '10', '-f'])),
    ).rejects.toThrow(/do not fit/);
  });
});
