import semver from 'semver';
import { z } from 'zod';
import { KeyIdSchema, PublicKeySchema } from '../crypto/keys.js';

const base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64');
const range = z.string().refine((value) => semver.validRange(value) !== null, 'a semver version or range');
/** A pack name (`docker`) or npm package name (`@sonde/pack-docker`); `*` matches any run of characters. */
const packPattern = z.string().min(1).max(214);

export const TrustedKeySchema = z
  .object({
    keyId: KeyIdSchema,
    publicKey: base64,
    publisher: z.string().min(1).max(100).optional().describe('Who this key belongs to; allow rules may name it.'),
    notBefore: z.iso.datetime().optional().describe('Signatures published before this time are refused.'),
    notAfter: z.iso.datetime().optional().describe('Signatures published after this time are refused; older ones keep verifying.'),
    comment: z.string().max(500).optional(),
  })
  .strict();

/**
 * "Key `from` hands over to key `to`", signed by `from`. The new key inherits
 * the old key's publisher (and so its allow rules); the old key stays known so
 * packs it signed inside its window keep verifying.
 */
export const RotationStatementBodySchema = z
  .object({
    type: z.literal('sonde-key-rotation'),
    from: KeyIdSchema,
    to: z
      .object({
        keyId: KeyIdSchema,
        publicKey: base64,
        notBefore: z.iso.datetime().optional(),
        notAfter: z.iso.datetime().optional(),
      })
      .strict(),
    retireFromAt: z.iso.datetime().optional().describe('The old key signs nothing published after this time.'),
    issuedAt: z.iso.datetime(),
  })
  .strict();

export const RotationStatementSchema = RotationStatementBodySchema.extend({
  signature: base64.describe('Ed25519 by the old key over "sonde-key-rotation/v1\\n" + canonicalJson(statement without signature).'),
}).strict();

export const AllowRuleSchema = z
  .object({
    publisher: z.string().min(1).optional().describe('Publisher name or key id; any trusted key when absent.'),
    pack: packPattern.default('*'),
    versions: range.optional(),
  })
  .strict();

export const DenyRuleSchema = z
  .object({
    pack: packPattern,
    versions: range.optional().describe('All versions when absent.'),
    reason: z.string().max(500).optional(),
  })
  .strict();

export const PinSchema = z
  .object({
    pack: z.string().min(1),
    version: z.string().refine((value) => semver.valid(value) !== null, 'an exact semver version'),
    integrity: z.string().regex(/^sha256-[A-Za-z0-9+/]+={0,2}$/, 'sha256-<base64>, as `sonde-registry verify` prints'),
  })
  .strict();

export const TrustPolicySchema = z
  .object({
    allow: z.array(AllowRuleSchema).default([]),
    deny: z.array(DenyRuleSchema).default([]),
    pins: z.array(PinSchema).default([]),
  })
  .strict();

export const TrustStoreSchema = z
  .object({
    $schema: z.string().optional(),
    type: z.literal('sonde-trust-store'),
    keys: z.array(TrustedKeySchema).default([]),
    rotations: z.array(RotationStatementSchema).default([]),
    hubKeys: z.array(PublicKeySchema).default([]).describe('Keys that may sign revocation lists.'),
    indexKeys: z.array(PublicKeySchema).default([]).describe('Keys that may sign the organisation pack index.'),
    policy: TrustPolicySchema.default({ allow: [], deny: [], pins: [] }),
  })
  .strict();

export type TrustedKey = z.infer<typeof TrustedKeySchema>;
export type RotationStatement = z.infer<typeof RotationStatementSchema>;
export type AllowRule = z.infer<typeof AllowRuleSchema>;
export type DenyRule = z.infer<typeof DenyRuleSchema>;
export type Pin = z.infer<typeof PinSchema>;
export type TrustPolicy = z.infer<typeof TrustPolicySchema>;
export type TrustStore = z.infer<typeof TrustStoreSchema>;
export type TrustStoreInput = z.input<typeof TrustStoreSchema>;

/** JSON Schema of the trust store file, for editors (`$schema`). */
export function trustStoreJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(TrustStoreSchema, { io: 'input' });
}
