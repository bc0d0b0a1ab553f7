import { canonicalJson } from '@sonde/pack-sdk/protocol';
import semver from 'semver';
import { z } from 'zod';
import { KeyIdSchema, keyIdOf, signDetached, verifyDetached, type PublicKey, type SigningKey } from '../crypto/keys.js';
import type { RegistryErrorCode } from '../errors.js';

export const IndexVersionSchema = z
  .object({
    version: z.string().refine((value) => semver.valid(value) !== null, 'an exact semver version'),
    integrity: z
      .string()
      .regex(/^sha256-[A-Za-z0-9+/]+={0,2}$/)
      .describe('Content integrity from the pack signature.'),
    tarballIntegrity: z.string().optional().describe("npm's dist.integrity of the tarball, when known."),
  })
  .strict();

const IndexBodySchema = z
  .object({
    type: z.literal('sonde-pack-index'),
    serial: z.number().int().min(1),
    issuedAt: z.iso.datetime(),
    organisation: z.string().max(200).optional(),
    packs: z.record(z.string().min(1), z.array(IndexVersionSchema)).describe('Allowed versions by npm package name.'),
  })
  .strict();

/** An unsigned index, as `index create` writes it and `index sign` reads it. */
export const UnsignedPackIndexSchema = IndexBodySchema;

export const PackIndexSchema = IndexBodySchema.extend({
  keyId: KeyIdSchema,
  signature: z.string().min(1).describe('Ed25519 over "sonde-pack-index/v1\\n" + canonicalJson(index without signature), base64.'),
}).strict();

export type IndexVersion = z.infer<typeof IndexVersionSchema>;
export type UnsignedPackIndex = z.infer<typeof UnsignedPackIndexSchema>;
export type PackIndex = z.infer<typeof PackIndexSchema>;

export function createPackIndex(
  packs: Record<string, IndexVersion[]>,
  options: { serial?: number; organisation?: string; issuedAt?: Date } = {},
): UnsignedPackIndex {
  const sorted: Record<string, IndexVersion[]> = {};
  for (const name of Object.keys(packs).sort()) {
    sorted[name] = [...packs[name]].sort((a, b) => semver.compare(a.version, b.version));
  }
  return UnsignedPackIndexSchema.parse({
    type: 'sonde-pack-index',
    serial: options.serial ?? 1,
    issuedAt: (options.issuedAt ?? new Date()).toISOString(),
    ...(options.organisation ? { organisation: options.organisation } : {}),
    packs: sorted,
  });
}

export function signPackIndex(index: UnsignedPackIndex, key: SigningKey): PackIndex {
  const body = UnsignedPackIndexSchema.parse(index);
  const signed = { ...body, keyId: key.keyId };
  return { ...signed, signature: signDetached('sonde-pack-index/v1', canonicalJson(signed), key) };
}

export type IndexVerification =
  | { ok: true; index: PackIndex }
  | { ok: false; code: Extract<RegistryErrorCode, 'SONDE_ERR_INDEX_INVALID' | 'SONDE_ERR_INDEX_STALE'>; reason: string };

/** Checks the index signature against the organisation's key(s), and with `current` refuses a rollback. */
export function verifyPackIndex(
  index: unknown,
  publicKeys: string | PublicKey | ReadonlyArray<string | PublicKey>,
  options: { current?: PackIndex | number } = {},
): IndexVerification {
  const parsed = PackIndexSchema.safeParse(index);
  if (!parsed.success)
    return { ok: false, code: 'SONDE_ERR_INDEX_INVALID', reason: `malformed pack index: ${z.prettifyError(parsed.error)}` };
  const { signature, ...body } = parsed.data;
  const keys = ((Array.isArray(publicKeys) ? publicKeys : [publicKeys]) as Array<string | PublicKey>).map((key) =>
    typeof key === 'string' ? key : key.publicKey,
  );
  const signer = keys.find((key) => {
    try {
      return keyIdOf(key) === body.keyId;
    } catch {
      return false;
    }
  });
  if (signer === undefined)
    return {
      ok: false,
      code: 'SONDE_ERR_INDEX_INVALID',
      reason: `pack index signed by key ${body.keyId}, which is not a configured index key`,
    };
  if (!verifyDetached('sonde-pack-index/v1', canonicalJson(body), signature, signer)) {
    return { ok: false, code: 'SONDE_ERR_INDEX_INVALID', reason: 'pack index signature does not verify' };
  }
  if (options.current !== undefined) {
    const serial = typeof options.current === 'number' ? options.current : options.current.serial;
    if (body.serial < serial)
      return {
        ok: false,
        code: 'SONDE_ERR_INDEX_STALE',
        reason: `pack index serial ${body.serial} is older than the held serial ${serial}`,
      };
  }
  return { ok: true, index: parsed.data };
}
