import { runProbe, type SondeError } from '@sonde/pack-sdk';
import { createFixtureContext, type CallLog, stringParams } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';

const EVIL = [
  '; rm -rf /',
  '$(id)',
  '`id`',
  '--output=/tmp/x',
  '-c',
  '../../etc/shadow',
  '/var/log/nginx/../../../etc/shadow',
  '/etc/nginx/../shadow',
  'a\nb',
  '/var/log/nginx/a\nb',
  '',
];

const STRING_PARAMS: Array<{ probe: string; param: string }> = [
  { probe: 'config.test', param: 'configPath' },
  { probe: 'access.tail', param: 'path' },
  { probe: 'error.tail', param: 'path' },
  { probe: 'error.tail', param: 'minLevel' },
  { probe: 'status', param: 'path' },
];

describe('injection attempts on every string param of the nginx pack', () => {
  it('covers every string param the manifest declares', () => {
    const declared = stringParams(pack);
    expect(STRING_PARAMS.map((p) => `${p.probe}.${p.param}`).sort()).toEqual(declared.sort());
  });

  for (const { probe, param } of STRING_PARAMS) {
    it(`${probe} ${param}: refused at validation or by the guard, never run`, async () => {
      for (const value of EVIL) {
        const calls: CallLog = { commands: [], files: [], http: [] };
        const error = await runProbe(pack, probe, { [param]: value }, (signal) => createFixtureContext(pack, {}, signal, calls)).then(
          () => undefined,
          (e: SondeError) => e,
        );
        expect(error?.code, `${probe} ${param}=${JSON.stringify(value)}`).toMatch(/SONDE_ERR_(INVALID_PARAMS|PERMISSION_DENIED)/);
        expect(calls).toEqual({ commands: [], files: [], http: [] });
      }
    });
  }
});
