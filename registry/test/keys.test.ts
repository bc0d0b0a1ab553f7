import { randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { keyIdOf, keyPairFromSeed, signDetached, verifyDetached } from '../src/crypto/keys.js';

describe('keyPairFromSeed', () => {
  it('derives the same key pair as tweetnacl, so existing hubs keep their revocation key', () => {
    for (let i = 0; i < 20; i++) {
      const seed = new Uint8Array(randomBytes(32));
      const expected = nacl.sign.keyPair.fromSeed(seed);
      const pair = keyPairFromSeed(seed);
      expect(pair.publicKey).toBe(Buffer.from(expected.publicKey).toString('base64'));
      expect(pair.secretKey).toBe(Buffer.from(expected.secretKey).toString('base64'));
      expect(pair.keyId).toBe(keyIdOf(expected.publicKey));
    }
  });

  it('makes a key that signs what verification accepts', () => {
    const pair = keyPairFromSeed(new Uint8Array(randomBytes(32)));
    const signature = signDetached('sonde-revocations/v1', '{"serial":1}', pair);
    expect(verifyDetached('sonde-revocations/v1', '{"serial":1}', signature, pair.publicKey)).toBe(true);
    expect(verifyDetached('sonde-revocations/v1', '{"serial":2}', signature, pair.publicKey)).toBe(false);
  });

  it('refuses a seed that is not 32 bytes', () => {
    expect(() => keyPairFromSeed(new Uint8Array(31))).toThrow(/32 bytes/);
  });
});
