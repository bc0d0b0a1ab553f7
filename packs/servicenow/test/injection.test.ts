import { runProbe, type SondeError } from '@sonde/pack-sdk';
import { createFixtureContext, type CallLog, stringParams } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';

const E = 'https://dev12345.service-now.com';
const CREDS = { username: 'u', password: 'p' };
const QUERY_ESCAPES = [
  'x^ORname!=x',
  'x^NQactive=true',
  'lnux100^ORDERBYname',
  'javascript:gs.getUserName()',
  'JavaScript :new GlideRecord("sys_user")',
  'a\r\nb',
  'a\u0000',
  ' lnux100',
  '',
  'x'.repeat(300),
];
const ID_ESCAPES = [
  'INC0010001^ORnumber!=x',
  'INC001000',
  'INC00100011',
  'inc0010001',
  'INC0010001 ',
  '../sys_user',
  'INC0010001&sysparm_fields=password',
  'javascript:1',
  '',
];
const STRING_PARAMS = [
  'incidents.open.state',
  'incidents.open.sort',
  'incident.get.number',
  'changes.upcoming.type',
  'cmdb.ci.lookup.name',
  'cmdb.ci.lookup.class',
];

async function attempt(probe: string, params: Record<string, unknown>): Promise<{ error?: SondeError; calls: CallLog }> {
  const calls: CallLog = { commands: [], files: [], http: [] };
  const error = await runProbe(pack, probe, params, (signal) =>
    createFixtureContext(pack, { endpoint: E, credentials: CREDS }, signal, calls),
  ).then(
    () => undefined,
    (e: SondeError) => e,
  );
  return { error, calls };
}

describe('injection attempts on every string param of the servicenow pack', () => {
  it('covers every string param the manifest declares', () => {
    const declared = stringParams(pack);
    expect(declared.sort()).toEqual([...STRING_PARAMS].sort());
  });

  it('cmdb.ci.lookup.name: encoded-query separators, javascript: and control characters are refused', async () => {
    for (const name of QUERY_ESCAPES) {
      const { error, calls } = await attempt('cmdb.ci.lookup', { name });
      expect(error?.code, JSON.stringify(name)).toBe('SONDE_ERR_INVALID_PARAMS');
      expect(calls.http).toEqual([]);
    }
  });

  it('incident.get.number: only INC + 7 digits', async () => {
    for (const number of ID_ESCAPES) {
      const { error, calls } = await attempt('incident.get', { number });
      expect(error?.code, JSON.stringify(number)).toBe('SONDE_ERR_INVALID_PARAMS');
      expect(calls.http).toEqual([]);
    }
  });

  it('enums refuse anything outside their list (table names included)', async () => {
    const cases: Array<[string, string]> = [
      ['incidents.open', 'state'],
      ['incidents.open', 'sort'],
      ['changes.upcoming', 'type'],
      ['cmdb.ci.lookup', 'class'],
    ];
    for (const [probe, param] of cases) {
      for (const value of ['sys_user', '1^ORactive=false', 'new^NQ', 'emergency ', '../incident', '']) {
        const { error, calls } = await attempt(probe, { name: 'lnux100', [param]: value });
        expect(error?.code, `${probe}.${param}=${value}`).toBe('SONDE_ERR_INVALID_PARAMS');
        expect(calls.http).toEqual([]);
      }
    }
  });
});
