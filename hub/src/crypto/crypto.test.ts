import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, TEST_SECRET } from '../../test/helpers.js';
import { HubError } from '../errors.js';
import { openHubStore } from '../store/open.js';
import { openStoreBackdoor } from '../store/testing.js';
import { openCrypto, SealError } from './index.js';
import { deriveKeys, deriveKeysAsync, type HubKeys } from './keys.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function freshStore() {
  const { dir, cleanup } = tempDir();
  const file = path.join(dir, 'sonde.db');
  const store = await openHubStore(file);
  cleanups.push(async () => {
    await store.close();
    cleanup();
  });
  return { store, file };
}

describe('hub crypto', () => {
  it('seals with AES-256-GCM, a random IV and the key id in the value', async () => {
    const { store } = await freshStore();
    const { sealer } = await openCrypto(TEST_SECRET, store);
    const a = sealer.seal('hello', 'ctx');
    const b = sealer.seal('hello', 'ctx');
    expect(a).not.toBe(b);
    const [version, kid, iv, tag] = a.split(':');
    expect(version).toBe('v1');
    expect(kid).toBe(sealer.kid);
    expect(Buffer.from(iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(tag, 'base64')).toHaveLength(16);
    expect(sealer.openText(a, 'ctx')).toBe('hello');
    expect(() => sealer.openText(a, 'other-ctx')).toThrow(SealError);
  });

  it('detects a tampered ciphertext', async () => {
    const { store } = await freshStore();
    const { sealer } = await openCrypto(TEST_SECRET, store);
    const parts = sealer.seal('secret value').split(':');
    const ct = Buffer.from(parts[4], 'base64');
    ct[0] = ct[0] ^ 1;
    parts[4] = ct.toString('base64');
    expect(() => sealer.open(parts.join(':'))).toThrow(/failed authentication/);
  });

  it('derives the same keys on restart and refuses a wrong SONDE_SECRET with a clear error', async () => {
    const { store, file } = await freshStore();
    const first = await openCrypto(TEST_SECRET, store);
    const sealed = first.sealer.seal('x');
    await store.close();
    const again = await openHubStore(file);
    const second = await openCrypto(TEST_SECRET, again);
    expect(second.sealer.openText(sealed)).toBe('x');
    expect(second.auditKey.equals(first.auditKey)).toBe(true);
    let caught: unknown;
    try {
      await openCrypto('another-secret-that-is-long-enough-1234', again);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(HubError);
    expect((caught as HubError).code).toBe('SONDE_ERR_WRONG_SECRET');
    expect((caught as HubError).message).toMatch(/SONDE_SECRET does not match/);
    await again.close();
  });

  it('stores no key material in the database, only salt, check value and ciphertext', async () => {
    const { store, file } = await freshStore();
    const { sealer, auditKey } = await openCrypto(TEST_SECRET, store);
    await store.settings.set('probe', sealer.seal('payload'));
    const backdoor = await openStoreBackdoor(file);
    const dump = await backdoor.dumpText();
    await backdoor.close();
    expect(dump).not.toContain(TEST_SECRET);
    expect(dump).not.toContain(auditKey.toString('base64'));
    expect(dump).not.toContain('payload');
  });

  it('derives exactly the keys of earlier versions, with scrypt on or off the main thread', async () => {
    // Pinned from the synchronous deriveKeys of 3a833de (wireSeed: from its introduction): databases and sealed secrets written before must still open.
    const { store } = await freshStore();
    await store.settings.set('crypto.salt', Buffer.alloc(16, 7).toString('base64'));
    const secret = 'correct horse battery staple, 32+ chars long';
    const hex = (keys: HubKeys) => ({
      sealKid: keys.sealKid,
      sealKey: keys.sealKey.toString('hex'),
      auditKey: keys.auditKey.toString('hex'),
      mcpSessionKey: keys.mcpSessionKey.toString('hex'),
      revocationSeed: keys.revocationSeed.toString('hex'),
      // Agents pin the public half of the wire key: a changed derivation would cut every Ed25519 agent off.
      wireSeed: keys.wireSeed.toString('hex'),
    });
    const expected = {
      sealKid: '6fbad7e4',
      sealKey: '3b04420f09063843c790d355406a29fbcbb96b9430b021b83a978ec3cc9e2f02',
      auditKey: '85d3130a9d334640752cf071aad4294f0516416c02f1b38317fdcf58270884e1',
      mcpSessionKey: '4be2d967212e5508a1d5afed3c48fa5288941b8f9b84edf4aa2d43b0de775f88',
      revocationSeed: '62c3ef18738dbe9adb73c2ad0033053c677972aa8d904480e8a4ad64f7aac8ac',
      wireSeed: 'a490aad535cd7a4a12b70b3348f2679b76ba836649bb7bfdfd21d4a0a161e959',
    };
    expect(hex(await deriveKeys(secret, store))).toEqual(expected);
    expect(hex(await deriveKeysAsync(secret, store))).toEqual(expected);
  });
});
