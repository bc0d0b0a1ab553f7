import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  generateKeyPair,
  keyIdOf,
  newKeyFile,
  readKeyFile,
  readPublicKeyFile,
  signDetached,
  verifyDetached,
  verifyDetachedNacl,
  writeKeyFile,
} from './keys.js';

describe('publisher keys', () => {
  it('derives a 16-hex key id from the public key', () => {
    const pair = generateKeyPair();
    expect(pair.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(keyIdOf(pair.publicKey)).toBe(pair.keyId);
    expect(Buffer.from(pair.secretKey, 'base64')).toHaveLength(64);
  });

  it('node:crypto and tweetnacl agree on valid, flipped and cross-domain signatures', () => {
    const key = generateKeyPair();
    const signature = signDetached('sonde-pack/v1', '{"a":1}', key);
    expect(verifyDetached('sonde-pack/v1', '{"a":1}', signature, key.publicKey)).toBe(true);
    expect(verifyDetachedNacl('sonde-pack/v1', '{"a":1}', signature, key.publicKey)).toBe(true);
    const flipped = Buffer.from(signature, 'base64');
    flipped[0] ^= 1;
    expect(verifyDetached('sonde-pack/v1', '{"a":1}', flipped.toString('base64'), key.publicKey)).toBe(false);
    expect(verifyDetachedNacl('sonde-pack/v1', '{"a":1}', flipped.toString('base64'), key.publicKey)).toBe(false);
    // A signature over the same JSON in another domain (e.g. an index) is not a pack signature.
    expect(verifyDetached('sonde-pack-index/v1', '{"a":1}', signature, key.publicKey)).toBe(false);
    expect(verifyDetached('sonde-pack/v1', '{"a":1}', signature, generateKeyPair().publicKey)).toBe(false);
  });

  it('refuses to sign with a secret key that does not match the stated public key', () => {
    const key = generateKeyPair();
    const other = generateKeyPair();
    expect(() => signDetached('sonde-pack/v1', '{}', { ...key, secretKey: other.secretKey })).toThrow(
      expect.objectContaining({ code: 'SONDE_ERR_KEY_FILE' }),
    );
  });

  it('writes key files with mode 0600, never overwrites, and reads the public half from either file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sonde-keys-'));
    try {
      const key = newKeyFile({ publisher: 'acme' });
      const path = join(dir, 'key.json');
      await writeKeyFile(path, key);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      await expect(writeKeyFile(path, key)).rejects.toThrow();
      expect(await readKeyFile(path)).toEqual(key);
      expect(await readPublicKeyFile(path)).toMatchObject({ keyId: key.keyId, publicKey: key.publicKey });
      expect(JSON.stringify(await readPublicKeyFile(path))).not.toContain(key.secretKey);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
