import { canonicalJson } from '@sonde/pack-sdk/protocol';
import { keyIdOf, signDetached, type SigningKey } from '../crypto/keys.js';
import { RotationStatementBodySchema, type RotationStatement } from './schema.js';

export interface RotateOptions {
  /** Window of the new key; notBefore defaults to now. */
  notBefore?: Date;
  notAfter?: Date;
  /** The old key signs nothing published after this time (its notAfter is lowered to it). */
  retireFromAt?: Date;
  issuedAt?: Date;
}

/** A rotation statement: the old key vouches for the new one. Add it to the trust store's `rotations`. */
export function createRotationStatement(oldKey: SigningKey, newKey: { publicKey: string }, options: RotateOptions = {}): RotationStatement {
  const issuedAt = options.issuedAt ?? new Date();
  const body = RotationStatementBodySchema.parse({
    type: 'sonde-key-rotation',
    from: oldKey.keyId,
    to: {
      keyId: keyIdOf(newKey.publicKey),
      publicKey: newKey.publicKey,
      notBefore: (options.notBefore ?? issuedAt).toISOString(),
      ...(options.notAfter ? { notAfter: options.notAfter.toISOString() } : {}),
    },
    ...(options.retireFromAt ? { retireFromAt: options.retireFromAt.toISOString() } : {}),
    issuedAt: issuedAt.toISOString(),
  });
  return { ...body, signature: signDetached('sonde-key-rotation/v1', canonicalJson(body), oldKey) };
}
