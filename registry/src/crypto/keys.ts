import { createPrivateKey, createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type Nacl from 'tweetnacl';
import { z } from 'zod';
import { RegistryError } from '../errors.js';
import { sha256Hex } from './digest.js';

// tweetnacl (pure JavaScript, ~20 ms to load) only makes keys and signatures: verification, which every agent
// start runs, uses node:crypto, so tweetnacl loads on first use.
let naclModule: typeof Nacl | undefined;
const nacl = (): typeof Nacl => (naclModule ??= createRequire(import.meta.url)('tweetnacl') as typeof Nacl);
/** RFC 8032 sizes (tweetnacl's sign.seedLength, publicKeyLength, secretKeyLength, signatureLength). */
const SEED_BYTES = 32;
const PUBLIC_KEY_BYTES = 32;
const SECRET_KEY_BYTES = 64;
const SIGNATURE_BYTES = 64;

const base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64');
export const KeyIdSchema = z.string().regex(/^[0-9a-f]{16}$/, 'a key id is 16 lowercase hex digits');

/** Public half of an Ed25519 key, as it appears in trust stores and `.pub.json` files. */
export const PublicKeySchema = z
  .object({
    keyId: KeyIdSchema,
    publicKey: base64.describe('Ed25519 public key, 32 bytes, base64.'),
  })
  .strict();

/** A key file written by `sonde-registry keygen` (mode 0600: it holds the secret key). */
export const KeyFileSchema = z
  .object({
    type: z.literal('sonde-ed25519-key'),
    keyId: KeyIdSchema,
    publicKey: base64,
    secretKey: base64.describe('Ed25519 secret key (tweetnacl 64-byte form), base64.'),
    publisher: z.string().min(1).max(100).optional(),
    createdAt: z.iso.datetime(),
  })
  .strict();

export const PublicKeyFileSchema = z
  .object({
    type: z.literal('sonde-ed25519-public-key'),
    keyId: KeyIdSchema,
    publicKey: base64,
    publisher: z.string().min(1).max(100).optional(),
    createdAt: z.iso.datetime().optional(),
  })
  .strict();

export type PublicKey = z.infer<typeof PublicKeySchema>;
export type KeyFile = z.infer<typeof KeyFileSchema>;
export type PublicKeyFile = z.infer<typeof PublicKeyFileSchema>;

/** Anything that can sign: a key file or the result of generateKeyPair. */
export interface SigningKey {
  keyId: string;
  publicKey: string;
  secretKey: string;
}

/** Short fingerprint: the first 16 hex digits of SHA-256 over the raw 32-byte public key. */
export function keyIdOf(publicKey: string | Uint8Array): string {
  const raw = typeof publicKey === 'string' ? decodePublicKey(publicKey) : publicKey;
  return sha256Hex(raw).slice(0, 16);
}

export function generateKeyPair(): { publicKey: string; secretKey: string; keyId: string } {
  const pair = nacl().sign.keyPair();
  return {
    publicKey: Buffer.from(pair.publicKey).toString('base64'),
    secretKey: Buffer.from(pair.secretKey).toString('base64'),
    keyId: keyIdOf(pair.publicKey),
  };
}

/**
 * A key pair from a 32-byte seed: the hub derives its revocation-signing key
 * from SONDE_SECRET this way, so every hub sharing the secret signs with the
 * same key and nothing secret is stored.
 */
export function keyPairFromSeed(seed: Uint8Array): { publicKey: string; secretKey: string; keyId: string } {
  if (seed.length !== SEED_BYTES) throw new RegistryError('SONDE_ERR_KEY_FILE', 'an Ed25519 seed is 32 bytes');
  // The hub derives this key at every start: node:crypto takes well under a millisecond where tweetnacl's
  // pure JavaScript took ~100 ms. The secret key keeps tweetnacl's 64-byte form, seed then public key.
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const { x } = createPublicKey(privateKey).export({ format: 'jwk' });
  const publicKey = Buffer.from(x ?? '', 'base64url');
  return {
    publicKey: publicKey.toString('base64'),
    secretKey: Buffer.concat([seed, publicKey]).toString('base64'),
    keyId: keyIdOf(publicKey),
  };
}

/** DER of a PKCS#8 Ed25519 private key up to its 32-byte seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function decodePublicKey(publicKey: string): Uint8Array {
  const raw = Buffer.from(publicKey, 'base64');
  if (raw.length !== PUBLIC_KEY_BYTES) throw new RegistryError('SONDE_ERR_KEY_FILE', 'an Ed25519 public key is 32 bytes');
  return new Uint8Array(raw);
}

/**
 * Every signed object starts with its own domain string, so a signature made
 * for one kind of document (say a pack index) can never be replayed as another
 * (say a pack signature), even though all use the same canonical JSON.
 */
export type SignatureDomain =
  'sonde-pack/v1' | 'sonde-key-rotation/v1' | 'sonde-revocations/v1' | 'sonde-pack-index/v1' | 'sonde-release/v1';

function message(domain: SignatureDomain, canonical: string): Uint8Array {
  return new Uint8Array(Buffer.from(`${domain}\n${canonical}`, 'utf8'));
}

export function signDetached(domain: SignatureDomain, canonical: string, key: SigningKey): string {
  const secret = Buffer.from(key.secretKey, 'base64');
  if (secret.length !== SECRET_KEY_BYTES) throw new RegistryError('SONDE_ERR_KEY_FILE', 'an Ed25519 secret key is 64 bytes');
  const derived = nacl().sign.keyPair.fromSecretKey(new Uint8Array(secret));
  if (Buffer.from(derived.publicKey).toString('base64') !== key.publicKey || keyIdOf(derived.publicKey) !== key.keyId) {
    throw new RegistryError('SONDE_ERR_KEY_FILE', 'the secret key does not belong to the public key or key id in the key file');
  }
  return Buffer.from(nacl().sign.detached(message(domain, canonical), derived.secretKey)).toString('base64');
}

const publicKeyObjects = new Map<string, KeyObject>();

function publicKeyObject(publicKey: string): KeyObject {
  let key = publicKeyObjects.get(publicKey);
  if (key === undefined) {
    const x = Buffer.from(decodePublicKey(publicKey)).toString('base64url');
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    if (publicKeyObjects.size > 1000) publicKeyObjects.clear();
    publicKeyObjects.set(publicKey, key);
  }
  return key;
}

/**
 * Verification runs at every pack load, so it uses Node's built-in Ed25519
 * (OpenSSL), about 40 times faster than tweetnacl's pure JavaScript here; both
 * implement RFC 8032 and a test checks they agree. Keys and signatures are
 * still made with tweetnacl.
 */
export function verifyDetached(domain: SignatureDomain, canonical: string, signature: string, publicKey: string): boolean {
  try {
    const sig = Buffer.from(signature, 'base64');
    if (sig.length !== SIGNATURE_BYTES) return false;
    return nodeVerify(null, message(domain, canonical), publicKeyObject(publicKey), sig);
  } catch {
    return false;
  }
}

/** The same check with tweetnacl, for hosts that want the pure-JavaScript path (and for the agreement test). */
export function verifyDetachedNacl(domain: SignatureDomain, canonical: string, signature: string, publicKey: string): boolean {
  try {
    const sig = Buffer.from(signature, 'base64');
    if (sig.length !== SIGNATURE_BYTES) return false;
    return nacl().sign.detached.verify(message(domain, canonical), new Uint8Array(sig), decodePublicKey(publicKey));
  } catch {
    return false;
  }
}

export function publicPart(key: KeyFile): PublicKeyFile {
  return {
    type: 'sonde-ed25519-public-key',
    keyId: key.keyId,
    publicKey: key.publicKey,
    ...(key.publisher ? { publisher: key.publisher } : {}),
    createdAt: key.createdAt,
  };
}

export function newKeyFile(options: { publisher?: string; now?: Date } = {}): KeyFile {
  const pair = generateKeyPair();
  return KeyFileSchema.parse({
    type: 'sonde-ed25519-key',
    ...pair,
    ...(options.publisher ? { publisher: options.publisher } : {}),
    createdAt: (options.now ?? new Date()).toISOString(),
  });
}

export async function writeKeyFile(path: string, key: KeyFile): Promise<void> {
  await writeFile(path, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600);
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new RegistryError(
      'SONDE_ERR_KEY_FILE',
      `cannot read key file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new RegistryError('SONDE_ERR_KEY_FILE', `key file ${path} is not JSON`);
  }
}

/** Reads a secret key file and checks the secret key, public key and key id agree. */
export async function readKeyFile(path: string): Promise<KeyFile> {
  const parsed = KeyFileSchema.safeParse(await readJson(path));
  if (!parsed.success) throw new RegistryError('SONDE_ERR_KEY_FILE', `${path} is not a sonde-registry key file (it needs a secretKey)`);
  if (keyIdOf(parsed.data.publicKey) !== parsed.data.keyId) {
    throw new RegistryError('SONDE_ERR_KEY_FILE', `${path}: keyId does not match the public key`);
  }
  return parsed.data;
}

/** Reads a public key from a `.pub.json` file or from a full key file (only the public half is kept). */
export async function readPublicKeyFile(path: string): Promise<PublicKeyFile> {
  const json = await readJson(path);
  const full = KeyFileSchema.safeParse(json);
  const parsed = full.success ? { success: true as const, data: publicPart(full.data) } : PublicKeyFileSchema.safeParse(json);
  if (!parsed.success) throw new RegistryError('SONDE_ERR_KEY_FILE', `${path} is not a sonde-registry public key file`);
  if (keyIdOf(parsed.data.publicKey) !== parsed.data.keyId) {
    throw new RegistryError('SONDE_ERR_KEY_FILE', `${path}: keyId does not match the public key`);
  }
  return parsed.data;
}
