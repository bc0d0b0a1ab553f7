import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  acceptWireKeyOffer,
  certifyWireKey,
  ed25519PrivateKeyFromSeed,
  ed25519PublicKeyFromBase64,
  ed25519PublicKeyToBase64,
  offerWireKey,
  verifyWireKeyCert,
  type WireKeyCert,
} from './wire.js';

const ca = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherCa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const hubKey = ed25519PrivateKeyFromSeed(randomBytes(32));
const code = (c: string) => expect.objectContaining({ code: c });

describe('hub wire key certified by the CA', () => {
  it('verifies against the CA that certified it and yields the same key', () => {
    const cert = certifyWireKey(hubKey, ca.privateKey);
    const key = verifyWireKeyCert(JSON.parse(JSON.stringify(cert)), ca.publicKey);
    expect(ed25519PublicKeyToBase64(key)).toBe(ed25519PublicKeyToBase64(hubKey));
  });

  it('refuses a statement from another CA, a swapped key and a malformed one', () => {
    const cert = certifyWireKey(hubKey, ca.privateKey);
    expect(() => verifyWireKeyCert(cert, otherCa.publicKey)).toThrow(code('SONDE_ERR_BAD_SIGNATURE'));
    const attacker = ed25519PublicKeyToBase64(generateKeyPairSync('ed25519').publicKey);
    const swapped: WireKeyCert = { ...cert, publicKey: attacker };
    expect(() => verifyWireKeyCert(swapped, ca.publicKey)).toThrow(code('SONDE_ERR_BAD_SIGNATURE'));
    expect(() => verifyWireKeyCert({ ...cert, extra: 1 }, ca.publicKey)).toThrow(code('SONDE_ERR_BAD_SIGNATURE'));
    expect(() => verifyWireKeyCert('nope', ca.publicKey)).toThrow(code('SONDE_ERR_BAD_SIGNATURE'));
  });

  it('derives the same key from the same seed', () => {
    const seed = randomBytes(32);
    expect(ed25519PublicKeyToBase64(ed25519PrivateKeyFromSeed(seed))).toBe(ed25519PublicKeyToBase64(ed25519PrivateKeyFromSeed(seed)));
    expect(() => ed25519PrivateKeyFromSeed(randomBytes(16))).toThrow();
    expect(() => ed25519PublicKeyFromBase64('short')).toThrow(code('SONDE_ERR_BAD_SIGNATURE'));
  });
});

describe('agent wire key offer', () => {
  const agent = generateKeyPairSync('ed25519');
  const csr = '-----BEGIN CERTIFICATE REQUEST-----\nabc\n-----END CERTIFICATE REQUEST-----\n';

  it('is accepted over the CSR it was made for', () => {
    const offer = offerWireKey(agent.privateKey, csr);
    expect(ed25519PublicKeyToBase64(acceptWireKeyOffer(offer, csr))).toBe(ed25519PublicKeyToBase64(agent.publicKey));
  });

  it('is refused over another CSR or with another key in it', () => {
    const offer = offerWireKey(agent.privateKey, csr);
    expect(() => acceptWireKeyOffer(offer, csr.replace('abc', 'abd'))).toThrow(code('SONDE_ERR_BAD_SIGNATURE'));
    const stranger = ed25519PublicKeyToBase64(generateKeyPairSync('ed25519').publicKey);
    expect(() => acceptWireKeyOffer({ ...offer, publicKey: stranger }, csr)).toThrow(code('SONDE_ERR_BAD_SIGNATURE'));
  });
});
