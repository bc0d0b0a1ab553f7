import { runProbe, type SondeError } from '@sonde/pack-sdk';
import { createFixtureContext, type CallLog } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';

const E = 'https://app.example.com';
const EVIL_PATHS = [
  '../etc/passwd',
  '/a/../../etc/passwd',
  '/./admin',
  '/a/%2e%2e/admin',
  '/a%2fb',
  '/a%5c..%5cb',
  '/a%00',
  '//evil.example.com/x',
  '/a?admin=1',
  '/a#x',
  '/a\r\nHost: evil',
  '/a b',
  'http://evil.example.com/',
  '',
  `/${'a'.repeat(2000)}`,
];

async function attempt(probe: string, params: Record<string, unknown>): Promise<{ error?: SondeError; calls: CallLog }> {
  const calls: CallLog = { commands: [], files: [], http: [] };
  const error = await runProbe(pack, probe, params, (signal) => createFixtureContext(pack, { endpoint: E }, signal, calls)).then(
    () => undefined,
    (e: SondeError) => e,
  );
  return { error, calls };
}

describe('injection attempts on every string param of the http pack', () => {
  it('covers every string param the manifest declares', () => {
    const declared = pack.manifest.probes.flatMap((probe) =>
      Object.entries((probe.params.properties ?? {}) as Record<string, { type?: string }>)
        .filter(([, schema]) => schema.type === 'string' || schema.type === 'object')
        .map(([param]) => `${probe.name}.${param}`),
    );
    expect(declared.sort()).toEqual(['get.path', 'get.query', 'health.path']);
  });

  for (const probe of ['get', 'health']) {
    it(`${probe}.path: traversal, encoded escapes, other hosts, query and CRLF are refused before any request`, async () => {
      for (const path of EVIL_PATHS) {
        const { error, calls } = await attempt(probe, { path });
        expect(error?.code, JSON.stringify(path)).toBe('SONDE_ERR_INVALID_PARAMS');
        expect(calls.http).toEqual([]);
      }
    });
  }

  it('get.query: hostile names are refused; hostile values stay encoded values', async () => {
    for (const query of [{ 'a&b': '1' }, { 'a=b': '1' }, { '': '1' }, { a: 'x\r\ny' }, { a: 'x'.repeat(600) }]) {
      const { error, calls } = await attempt('get', { path: '/', query });
      expect(error?.code, JSON.stringify(query)).toBe('SONDE_ERR_INVALID_PARAMS');
      expect(calls.http).toEqual([]);
    }
    const { calls } = await attempt('get', { path: '/search', query: { q: '../../x&admin=1#frag' } });
    const url = new URL(calls.http[0].url);
    expect(url.pathname).toBe('/search');
    expect([...url.searchParams]).toEqual([['q', '../../x&admin=1#frag']]);
  });
});
