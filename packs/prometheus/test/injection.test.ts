import { runProbe, type SondeError } from '@sonde/pack-sdk';
import { createFixtureContext, type CallLog, stringParams } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';

const E = 'https://prom.example.com:9090';
const EVIL = [
  '../../api/v1/admin/tsdb/delete_series',
  'x/../../-/quit',
  'a&match[]=up',
  'a?x=1',
  'a#frag',
  '%2e%2e%2fadmin',
  'job\r\nX-Injected: 1',
  'a\u0000b',
  ' spaced',
  '',
  'a'.repeat(5000),
];

const STRING_PARAMS = ['targets.job', 'alerts.state', 'rules.type', 'query.query', 'query.time'];

async function attempt(probe: string, params: Record<string, unknown>): Promise<{ error?: SondeError; calls: CallLog }> {
  const calls: CallLog = { commands: [], files: [], http: [] };
  const error = await runProbe(pack, probe, params, (signal) => createFixtureContext(pack, { endpoint: E }, signal, calls)).then(
    () => undefined,
    (e: SondeError) => e,
  );
  return { error, calls };
}

describe('injection attempts on every string param of the prometheus pack', () => {
  it('covers every string param the manifest declares', () => {
    const declared = stringParams(pack);
    expect(STRING_PARAMS.sort()).toEqual(declared.sort());
  });

  for (const name of STRING_PARAMS.filter((p) => p !== 'query.query')) {
    it(`${name}: refused at validation, nothing is sent`, async () => {
      const [probe, param] = [name.slice(0, name.lastIndexOf('.')), name.slice(name.lastIndexOf('.') + 1)];
      for (const value of EVIL) {
        const base = probe === 'query' ? { query: 'up' } : {};
        const { error, calls } = await attempt(probe, { ...base, [param]: value });
        expect(error?.code, `${name}=${JSON.stringify(value)}`).toBe('SONDE_ERR_INVALID_PARAMS');
        expect(calls.http).toEqual([]);
      }
    });
  }

  it('query.query: PromQL travels as exactly one URL-encoded parameter; control characters and huge input are refused', async () => {
    for (const value of EVIL) {
      const { error, calls } = await attempt('query', { query: value });
      if (value === '' || value.length > 4000 || value.includes('\r') || value.includes('\u0000')) {
        expect(error?.code, JSON.stringify(value)).toBe('SONDE_ERR_INVALID_PARAMS');
        expect(calls.http).toEqual([]);
        continue;
      }
      expect(calls.http).toHaveLength(1);
      const url = new URL(calls.http[0].url);
      expect(url.origin + url.pathname).toBe(`${E}/api/v1/query`);
      expect([...url.searchParams.keys()]).toEqual(['query', 'timeout']);
      expect(url.searchParams.get('query')).toBe(value);
      expect(url.hash).toBe('');
    }
  });
});
