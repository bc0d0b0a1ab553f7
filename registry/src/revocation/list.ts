import { canonicalJson } from '@sonde/pack-sdk/protocol';
import semver from 'semver';
import { z } from 'zod';
import { KeyIdSchema, keyIdOf, signDetached, verifyDetached, type PublicKey, type SigningKey } from '../crypto/keys.js';
import type { RegistryErrorCode } from '../errors.js';

export const RevokedKeySchema = z
  .object({
    keyId: KeyIdSchema,
    reason: z.string().max(500).optional(),
  })
  .strict();

export const RevokedPackSchema = z
  .object({
    pack: z.string().min(1).describe('npm package name or pack name, as in the signed statement.'),
    versions: z
      .string()
      .refine((range) => semver.validRange(range) !== null, 'a semver version or range')
      .describe('Exact version (1.2.3) or semver range (<1.4.0) of the revoked versions.'),
    reason: z.string().max(500).optional(),
  })
  .strict();

const RevocationBodySchema = z
  .object({
    type: z.literal('sonde-revocations'),
    serial: z.number().int().min(1).describe('Strictly increases with every new list; an older list never replaces a newer one.'),
    issuedAt: z.iso.datetime(),
    keys: z.array(RevokedKeySchema).default([]),
    packs: z.array(RevokedPackSchema).default([]),
    keyId: KeyIdSchema.describe('The hub key that signed this list.'),
  })
  .strict();

export const RevocationListSchema = RevocationBodySchema.extend({
  signature: z.string().min(1).describe('Ed25519 over "sonde-revocations/v1\\n" + canonicalJson(list without signature), base64.'),
}).strict();

export type RevokedKey = z.infer<typeof RevokedKeySchema>;
export type RevokedPack = z.infer<typeof RevokedPackSchema>;
export type RevocationList = z.infer<typeof RevocationListSchema>;

export interface RevocationChanges {
  serial: number;
  keys?: RevokedKey[];
  packs?: RevokedPack[];
  issuedAt?: Date;
}

export function createRevocationList(changes: RevocationChanges, hubKey: SigningKey): RevocationList {
  const body = RevocationBodySchema.parse({
    type: 'sonde-revocations',
    serial: changes.serial,
    issuedAt: (changes.issuedAt ?? new Date()).toISOString(),
    keys: changes.keys ?? [],
    packs: changes.packs ?? [],
    keyId: hubKey.keyId,
  });
  return { ...body, signature: signDetached('sonde-revocations/v1', canonicalJson(body), hubKey) };
}

/** The next list: previous entries kept, new ones added (duplicates dropped), serial + 1. */
export function extendRevocationList(
  previous: RevocationList | undefined,
  add: { keys?: RevokedKey[]; packs?: RevokedPack[] },
  hubKey: SigningKey,
  issuedAt?: Date,
): RevocationList {
  const keys = [...(previous?.keys ?? [])];
  for (const key of add.keys ?? []) if (!keys.some((k) => k.keyId === key.keyId)) keys.push(key);
  const packs = [...(previous?.packs ?? [])];
  for (const pack of add.packs ?? []) if (!packs.some((p) => p.pack === pack.pack && p.versions === pack.versions)) packs.push(pack);
  return createRevocationList({ serial: (previous?.serial ?? 0) + 1, keys, packs, ...(issuedAt ? { issuedAt } : {}) }, hubKey);
}

export type RevocationVerification =
  | { ok: true; list: RevocationList }
  | { ok: false; code: Extract<RegistryErrorCode, 'SONDE_ERR_REVOCATIONS_INVALID' | 'SONDE_ERR_REVOCATIONS_STALE'>; reason: string };

export interface VerifyRevocationOptions {
  /** The list (or its serial) already held: an incoming list must have a higher serial, or be the very same list. */
  current?: RevocationList | number;
}

/**
 * Checks a revocation list against the hub's public key(s), offline. With
 * `current`, also refuses a list that would roll revocations back.
 */
export function verifyRevocationList(
  list: unknown,
  hubPublicKey: string | PublicKey | ReadonlyArray<string | PublicKey>,
  options: VerifyRevocationOptions = {},
): RevocationVerification {
  const parsed = RevocationListSchema.safeParse(list);
  if (!parsed.success)
    return { ok: false, code: 'SONDE_ERR_REVOCATIONS_INVALID', reason: `malformed revocation list: ${z.prettifyError(parsed.error)}` };
  const { signature, ...body } = parsed.data;
  const candidates = (Array.isArray(hubPublicKey) ? hubPublicKey : [hubPublicKey]) as Array<string | PublicKey>;
  const keys = candidates.map((key) => (typeof key === 'string' ? key : key.publicKey));
  const signer = keys.find((key) => safeKeyId(key) === body.keyId);
  if (signer === undefined) {
    return {
      ok: false,
      code: 'SONDE_ERR_REVOCATIONS_INVALID',
      reason: `revocation list signed by key ${body.keyId}, which is not a configured hub key`,
    };
  }
  if (!verifyDetached('sonde-revocations/v1', canonicalJson(body), signature, signer)) {
    return { ok: false, code: 'SONDE_ERR_REVOCATIONS_INVALID', reason: 'revocation list signature does not verify against the hub key' };
  }
  const current = options.current;
  if (current !== undefined) {
    const currentSerial = typeof current === 'number' ? current : current.serial;
    if (body.serial < currentSerial) {
      return {
        ok: false,
        code: 'SONDE_ERR_REVOCATIONS_STALE',
        reason: `revocation list serial ${body.serial} is older than the held serial ${currentSerial}`,
      };
    }
    if (body.serial === currentSerial && typeof current !== 'number' && canonicalJson(current) !== canonicalJson(parsed.data)) {
      return {
        ok: false,
        code: 'SONDE_ERR_REVOCATIONS_STALE',
        reason: `a different revocation list with the same serial ${body.serial} is already held`,
      };
    }
  }
  return { ok: true, list: parsed.data };
}

function safeKeyId(publicKey: string): string | undefined {
  try {
    return keyIdOf(publicKey);
  } catch {
    return undefined;
  }
}

/** Entries that revoke this pack version, matched by npm package name or pack name. */
export function findRevokedVersion(list: RevocationList | undefined, names: readonly string[], version: string): RevokedPack | undefined {
  return list?.packs.find((entry) => names.includes(entry.pack) && semver.satisfies(version, entry.versions, { includePrerelease: true }));
}
