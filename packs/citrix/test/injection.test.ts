import { runProbe, type SondeError } from '@sonde/pack-sdk';
import { createFixtureContext, type CallLog, stringParams } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';

const E = 'https://api.cloud.com';
const CREDS = { customerId: 'acme1a2b3c4d', bearerToken: 'tok' };
const EVIL = [
  '../Administrators',
  'Group/../../x',
  "Desktops' or 1 eq 1",
  'a?x=1',
  'a#b',
  'a%2fb',
  'a\r\nX: y',
  ' padded',
  '',
  'x'.repeat(65),
  "Name eq 'x'",
];

describe('injection attempts on every string param of the citrix pack', () => {
  it('covers every string param the manifest declares', () => {
    const declared = stringParams(pack);
    expect(declared).toEqual(['machines.unregistered.deliveryGroup']);
  });

  it('machines.unregistered.deliveryGroup: refused at validation, nothing is sent', async () => {
    for (const deliveryGroup of EVIL) {
      const calls: CallLog = { commands: [], files: [], http: [] };
      const error = await runProbe(pack, 'machines.unregistered', { deliveryGroup }, (signal) =>
        createFixtureContext(pack, { endpoint: E, credentials: CREDS }, signal, calls),
      ).then(
        () => undefined,
        (e: SondeError) => e,
      );
      expect(error?.code, JSON.stringify(deliveryGroup)).toBe('SONDE_ERR_INVALID_PARAMS');
      expect(calls.http).toEqual([]);
    }
  });
});
