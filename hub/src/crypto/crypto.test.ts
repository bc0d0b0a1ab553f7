import path from 'node:path';
import { Database } from '../store/sqlite/driver.js';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, TEST_SECRET } from '../../test/helpers.js';
import { HubError } from '../errors.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import { openCrypto, SealError } from './index.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function freshStore() {
  const { dir, cleanup } = tempDir();
  const file = path.join(dir, 'sonde.db');
  const store = openSqliteStore(file);
  cleanups.push(() => {
    store.close();
    cleanup();
  });
  return { store, file };
}

describe('hub crypto', () => {
  it('seals with AES-256-GCM, a random IV and the key id in the value', () => {
    const { store } = freshStore();
    const { sealer } = openCrypto(TEST_SECRET, store);
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

  it('detects a tampered ciphertext', () => {
    const { store } = freshStore();
    const { sealer } = openCrypto(TEST_SECRET, store);
    const parts = sealer.seal('secret value').split(':');
    const ct = Buffer.from(parts[4], 'base64');
    ct[0] = ct[0] ^ 1;
    parts[4] = ct.toString('base64');
    expect(() => sealer.open(parts.join(':'))).toThrow(/failed authentication/);
  });

  it('derives the same keys on restart and refuses a wrong SONDE_SECRET with a clear error', () => {
    const { store, file } = freshStore();
    const first = openCrypto(TEST_SECRET, store);
    const sealed = first.sealer.seal('x');
    store.close();
    const again = openSqliteStore(file);
    const second = openCrypto(TEST_SECRET, again);
    expect(second.sealer.openText(sealed)).toBe('x');
    expect(second.auditKey.equals(first.auditKey)).toBe(true);
    let caught: unknown;
    try {
      openCrypto('another-secret-that-is-long-enough-1234', again);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(HubError);
    expect((caught as HubError).code).toBe('SONDE_ERR_WRONG_SECRET');
    expect((caught as HubError).message).toMatch(/SONDE_SECRET does not match/);
    again.close();
  });

  it('stores no key material in the database, only salt, check value and ciphertext', () => {
    const { store, file } = freshStore();
    const { sealer, auditKey } = openCrypto(TEST_SECRET, store);
    store.settings.set('probe', sealer.seal('payload'));
    const raw = new Database(file, { readonly: true });
    const dump = JSON.stringify(raw.prepare('SELECT * FROM settings').all());
    raw.close();
    expect(dump).not.toContain(TEST_SECRET);
    expect(dump).not.toContain(auditKey.toString('base64'));
    expect(dump).not.toContain('payload');
  });
});
