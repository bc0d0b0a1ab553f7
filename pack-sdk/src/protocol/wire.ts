import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { SondeError } from '../errors.js';
import { canonicalJson } from './canonical.js';

/**
 * How agent↔hub envelopes are signed. `ed25519` is the default since protocol
 * round two (~30 µs a signature against ~300 µs for RSA-2048); `rsa-sha256`
 * (RSA PKCS#1 v1.5 over SHA-256) is the per-deployment alternative and what
 * agents enrolled before the change keep using until they renew.
 *
 * The algorithm is never chosen by a frame: each side verifies with the one key
 * bound to the peer's enrolled identity, and a frame whose `alg` differs from
 * that key's algorithm is refused (no downgrade).
 */
export const WireAlgorithmSchema = z.enum(['ed25519', 'rsa-sha256']);
export type WireAlgorithm = z.infer<typeof WireAlgorithmSchema>;

/** The wire algorithm a key signs with, or null for a key type the protocol does not use. */
export function wireAlgorithmOf(key: KeyObject): WireAlgorithm | null {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'rsa') return 'rsa-sha256';
  return null;
}

const Base64Ed25519 = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'an Ed25519 public key is 32 bytes, base64');
const Base64Signature = z
  .string()
  .regex(/^[A-Za-z0-9+/]+={0,2}$/)
  .max(1024);

/** The 32 raw bytes of an Ed25519 public key, base64: the form keys travel in. */
export function ed25519PublicKeyToBase64(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new TypeError('not an Ed25519 key');
  return Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
}

export function ed25519PublicKeyFromBase64(base64: string): KeyObject {
  if (!Base64Ed25519.safeParse(base64).success) throw new SondeError('SONDE_ERR_BAD_SIGNATURE', 'not an Ed25519 public key');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(base64, 'base64').toString('base64url') }, format: 'jwk' });
}

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** An Ed25519 private key from a 32-byte seed (the hub derives its wire key from SONDE_SECRET). */
export function ed25519PrivateKeyFromSeed(seed: Buffer): KeyObject {
  if (seed.length !== 32) throw new TypeError('an Ed25519 seed is 32 bytes');
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** 16 hex characters of the key's SHA-256: names a key in logs and files, proves nothing. */
export function wireKeyId(publicKeyBase64: string): string {
  return createHash('sha256').update(Buffer.from(publicKeyBase64, 'base64')).digest('hex').slice(0, 16);
}

/**
 * The hub's Ed25519 wire key, certified by the hub CA: a statement signed with
 * the CA key (RSA-SHA256 over its canonical JSON). The agent checks it against
 * the CA certificate it pinned at enrollment and then pins the key beside it.
 */
export const WireKeyCertSchema = z
  .object({
    type: z.literal('sonde-wire-key/v1'),
    alg: z.literal('ed25519'),
    /** Whose key: `hub` (the only subject so far; agents' keys are certified inside their X.509 certificate). */
    subject: z.literal('hub'),
    keyId: z.string().regex(/^[0-9a-f]{16}$/),
    publicKey: Base64Ed25519,
    issuedAt: z.string().max(40),
    sig: Base64Signature,
  })
  .strict();
export type WireKeyCert = z.infer<typeof WireKeyCertSchema>;

const CERT_DOMAIN = 'sonde-wire-key/v1\n';

function certInput(cert: Omit<WireKeyCert, 'sig'>): Buffer {
  const { type, alg, subject, keyId, publicKey, issuedAt } = cert;
  return Buffer.from(CERT_DOMAIN + canonicalJson({ type, alg, subject, keyId, publicKey, issuedAt }), 'utf8');
}

/** Certifies an Ed25519 public key with the CA's private key. */
export function certifyWireKey(publicKey: KeyObject, caKey: KeyObject, issuedAt: Date = new Date()): WireKeyCert {
  const base64 = ed25519PublicKeyToBase64(publicKey);
  const body = {
    type: 'sonde-wire-key/v1' as const,
    alg: 'ed25519' as const,
    subject: 'hub' as const,
    keyId: wireKeyId(base64),
    publicKey: base64,
    issuedAt: issuedAt.toISOString(),
  };
  return { ...body, sig: sign('sha256', certInput(body), caKey).toString('base64') };
}

/** The certified key, or SONDE_ERR_BAD_SIGNATURE when the statement is malformed or not signed by this CA. */
export function verifyWireKeyCert(raw: unknown, caPublicKey: KeyObject): KeyObject {
  const parsed = WireKeyCertSchema.safeParse(raw);
  if (!parsed.success) throw new SondeError('SONDE_ERR_BAD_SIGNATURE', 'the hub wire key statement is malformed');
  const cert = parsed.data;
  let valid = false;
  try {
    valid = verify('sha256', certInput(cert), caPublicKey, Buffer.from(cert.sig, 'base64'));
  } catch {
    valid = false;
  }
  if (!valid || cert.keyId !== wireKeyId(cert.publicKey))
    throw new SondeError('SONDE_ERR_BAD_SIGNATURE', 'the hub wire key is not certified by the pinned hub CA');
  return ed25519PublicKeyFromBase64(cert.publicKey);
}

/**
 * What an enrolling (or renewing) agent sends besides its CSR: its Ed25519
 * public key and a signature with it over the CSR, so the hub certifies only a
 * key whose holder also holds the CSR's key, for this request.
 */
export const WireKeyOfferSchema = z.object({ alg: z.literal('ed25519'), publicKey: Base64Ed25519, proof: Base64Signature }).strict();
export type WireKeyOffer = z.infer<typeof WireKeyOfferSchema>;

const PROOF_DOMAIN = 'sonde-wire-key-proof/v1\n';

export function offerWireKey(privateKey: KeyObject, csrPem: string): WireKeyOffer {
  return {
    alg: 'ed25519',
    publicKey: ed25519PublicKeyToBase64(privateKey),
    proof: sign(null, Buffer.from(PROOF_DOMAIN + csrPem, 'utf8'), privateKey).toString('base64'),
  };
}

/** The offered key when its proof verifies over this CSR; SONDE_ERR_BAD_SIGNATURE otherwise. */
export function acceptWireKeyOffer(offer: WireKeyOffer, csrPem: string): KeyObject {
  const key = ed25519PublicKeyFromBase64(offer.publicKey);
  let valid = false;
  try {
    valid = verify(null, Buffer.from(PROOF_DOMAIN + csrPem, 'utf8'), key, Buffer.from(offer.proof, 'base64'));
  } catch {
    valid = false;
  }
  if (!valid) throw new SondeError('SONDE_ERR_BAD_SIGNATURE', 'the wire key proof does not verify over this CSR');
  return key;
}

/** Agent answer field: present when the hub certified the agent's Ed25519 key (the deployment signs with Ed25519). */
export const WireGrantSchema = z.object({ alg: z.literal('ed25519'), hubKey: WireKeyCertSchema }).strict();
export type WireGrant = z.infer<typeof WireGrantSchema>;

/**
 * X.509 extension (non-critical) in which the hub CA certifies an agent's
 * Ed25519 wire key inside its client certificate: the value is the key's
 * SubjectPublicKeyInfo (DER). The OID sits under the UUID arc 2.25 (ITU-T
 * X.667), which needs no registration.
 */
export const WIRE_KEY_EXTENSION_OID = '2.25.316071668015995373180894703223382305179';
