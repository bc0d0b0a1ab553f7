/**
 * Every refusal the registry library reports carries one stable code. Agents and
 * the hub show these to operators and audit them, so never rename one; add new
 * codes instead. README.md lists each with its meaning.
 */
export const RegistryErrors = {
  SONDE_ERR_PACK_UNSIGNED: 'The pack carries no sonde-signature.json; unsigned packs are always refused.',
  SONDE_ERR_PACK_MALFORMED: 'The pack or its signature file cannot be read or does not match the expected format.',
  SONDE_ERR_PACK_BAD_SIGNATURE: 'The pack signature does not verify against the publisher key.',
  SONDE_ERR_PACK_UNKNOWN_KEY: 'The pack is signed by a key that is not in the trust store.',
  SONDE_ERR_PACK_MANIFEST_MISMATCH: 'sonde-pack.json differs from the manifest that was signed.',
  SONDE_ERR_PACK_FILE_CHANGED: 'A file differs from the signed digest.',
  SONDE_ERR_PACK_FILE_ADDED: 'The pack contains a file that was not signed.',
  SONDE_ERR_PACK_FILE_REMOVED: 'A signed file is missing from the pack.',
  SONDE_ERR_PACK_KEY_NOT_VALID: 'The signing key was outside its validity window at the signed publish time.',
  SONDE_ERR_PACK_KEY_REVOKED: 'The signing key is revoked.',
  SONDE_ERR_PACK_VERSION_REVOKED: 'This pack version is revoked.',
  SONDE_ERR_PACK_DENIED: 'A deny rule of the trust policy matches this pack or version.',
  SONDE_ERR_PACK_NOT_ALLOWED: 'No allow rule or pin of the trust policy covers this pack.',
  SONDE_ERR_PACK_PIN_MISMATCH: 'The pack content differs from the integrity pinned for this version.',
  SONDE_ERR_TRUST_INVALID: 'The trust store is invalid.',
  SONDE_ERR_ROTATION_INVALID: 'A key rotation statement does not verify against the key it claims to rotate from.',
  SONDE_ERR_REVOCATIONS_INVALID: 'The revocation list is malformed or its signature does not verify against the hub key.',
  SONDE_ERR_REVOCATIONS_STALE: 'The revocation list is older than the one already held (serial must increase).',
  SONDE_ERR_INDEX_INVALID: 'The pack index is malformed or its signature does not verify.',
  SONDE_ERR_INDEX_STALE: 'The pack index is older than the one already held (serial must increase).',
  SONDE_ERR_INDEX_NOT_FOUND: 'The pack index has no allowed version of this pack in the requested range.',
  SONDE_ERR_DOWNGRADE: 'The resolved version is older than the installed one; pass allowDowngrade to accept it.',
  SONDE_ERR_KEY_FILE: 'The key file is missing, malformed or has no secret key.',
  SONDE_ERR_SIGN_FAILED: 'The pack cannot be signed.',
  SONDE_ERR_FETCH_FAILED: 'npm could not fetch the package tarball (registry, spec or network).',
  SONDE_ERR_PACK_VERSION_CONFLICT: 'This pack version is already installed with other content.',
} as const satisfies Record<`SONDE_ERR_${string}`, string>;

export type RegistryErrorCode = keyof typeof RegistryErrors;

export class RegistryError extends Error {
  readonly code: RegistryErrorCode;
  /** Relative path of the file concerned, for the file codes. */
  readonly file: string | undefined;

  constructor(code: RegistryErrorCode, message?: string, file?: string) {
    super(message ?? RegistryErrors[code]);
    this.name = 'RegistryError';
    this.code = code;
    this.file = file;
  }
}

export function isRegistryError(value: unknown): value is RegistryError {
  return value instanceof RegistryError;
}
