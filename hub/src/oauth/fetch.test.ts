import { describe, expect, it } from 'vitest';
import { guardedFetch, isSpecialUseAddress } from './fetch.js';

describe('isSpecialUseAddress', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    'fd00::1',
    'fe80::1',
    'not an address',
  ])('refuses %s', (address) => expect(isSpecialUseAddress(address)).toBe(true));

  it.each(['8.8.8.8', '172.32.0.1', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows %s', (address) =>
    expect(isSpecialUseAddress(address)).toBe(false),
  );
});

describe('guardedFetch', () => {
  const fetchDoc = guardedFetch({ allowPrivate: [] });
  it.each(['http://example.com/x.json', 'https://127.0.0.1/x.json', 'https://[::1]/x.json', 'https://169.254.169.254/latest'])(
    'refuses %s before connecting',
    async (url) => {
      await expect(fetchDoc(url)).rejects.toMatchObject({ code: 'SONDE_ERR_OAUTH_FETCH_REFUSED' });
    },
  );

  it('refuses a host name that resolves to loopback, at connect time', async () => {
    await expect(fetchDoc('https://localhost:1/x.json')).rejects.toMatchObject({ code: 'SONDE_ERR_OAUTH_FETCH_REFUSED' });
  });
});
