import { sha256Hex } from '../crypto/digest.js';
import { withinWindow, type ResolvedKey, type Trust } from '../trust/trust.js';
import type { PackContents } from './contents.js';
import type { SignedFile } from './signature.js';
import type { VerifyFailureCode } from './verify.js';

/**
 * The checks every signed package shares, pack or agent release, so the two
 * verifiers cannot drift apart: the file set against its signed digests, and
 * the signer's standing (revocation, validity window at the signed publish
 * time) and the version's.
 */

export interface Refusal {
  code: VerifyFailureCode;
  reason: string;
  file?: string;
}

/** Every signed file present and unchanged, nothing unsigned beside them (the signature file excepted). */
export function signedFilesRefusal(contents: PackContents, files: readonly SignedFile[], signatureFile: string): Refusal | undefined {
  const signed = new Map(files.map((file) => [file.path, file]));
  for (const file of files) {
    if (!contents.has(file.path))
      return { code: 'SONDE_ERR_PACK_FILE_REMOVED', reason: `signed file ${file.path} is missing`, file: file.path };
  }
  for (const path of [...contents.keys()].sort()) {
    if (path !== signatureFile && !signed.has(path))
      return { code: 'SONDE_ERR_PACK_FILE_ADDED', reason: `file ${path} was not signed`, file: path };
  }
  for (const file of files) {
    const bytes = contents.get(file.path)!;
    if (bytes.length !== file.size || sha256Hex(bytes) !== file.sha256)
      return { code: 'SONDE_ERR_PACK_FILE_CHANGED', reason: `file ${file.path} differs from the signed digest`, file: file.path };
  }
  return undefined;
}

export interface StandingOptions {
  now?: Date;
  clockSkewMs?: number;
}

/**
 * The signing key not revoked (nor rotated from a revoked key), valid at the
 * signed publish time, that time not in the future, and `names[0]@version`
 * not revoked.
 */
export function signerStandingRefusal(
  trust: Trust,
  key: ResolvedKey,
  signed: { publishedAt: string; names: readonly string[]; version: string },
  options: StandingOptions = {},
): Refusal | undefined {
  const revoked = trust.revokedAncestor(key);
  if (revoked) {
    const how =
      revoked.keyId === key.keyId ? `key ${key.keyId} is revoked` : `key ${key.keyId} was rotated from revoked key ${revoked.keyId}`;
    return { code: 'SONDE_ERR_PACK_KEY_REVOKED', reason: `${how}${revoked.reason ? `: ${revoked.reason}` : ''}` };
  }
  const publishedAt = new Date(signed.publishedAt);
  const now = options.now ?? new Date();
  if (publishedAt.getTime() > now.getTime() + (options.clockSkewMs ?? 5 * 60_000)) {
    return { code: 'SONDE_ERR_PACK_KEY_NOT_VALID', reason: `signed publish time ${signed.publishedAt} is in the future` };
  }
  if (!withinWindow(key, publishedAt)) {
    const window = `${key.notBefore?.toISOString() ?? '−∞'} … ${key.notAfter?.toISOString() ?? '+∞'}`;
    return {
      code: 'SONDE_ERR_PACK_KEY_NOT_VALID',
      reason: `key ${key.keyId} was not valid at the signed publish time ${signed.publishedAt} (window ${window})`,
    };
  }
  const revokedVersion = trust.revokedVersion(signed.names, signed.version);
  if (revokedVersion) {
    return {
      code: 'SONDE_ERR_PACK_VERSION_REVOKED',
      reason: `${signed.names[0]}@${signed.version} is revoked (${revokedVersion.pack}@${revokedVersion.versions})${revokedVersion.reason ? `: ${revokedVersion.reason}` : ''}`,
    };
  }
  return undefined;
}
