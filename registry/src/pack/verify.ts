import { stat } from 'node:fs/promises';
import type { PackManifest } from '@sonde/pack-sdk';
import { canonicalJson } from '@sonde/pack-sdk/protocol';
import { z } from 'zod';
import { sha256Hex } from '../crypto/digest.js';
import { verifyDetached } from '../crypto/keys.js';
import { RegistryError, type RegistryErrorCode } from '../errors.js';
import type { Trust } from '../trust/trust.js';
import { signedFilesRefusal, signerStandingRefusal } from './standing.js';
import { MANIFEST_FILE, SIGNATURE_FILE, isTarballPath, readPackDir, readPackTarball, type PackContents } from './contents.js';
import {
  SignatureFileSchema,
  manifestDigest,
  packIntegrity,
  parseJsonFile,
  readManifest,
  readPackageIdentity,
  type PackStatement,
} from './signature.js';

export interface VerifiedPack {
  ok: true;
  /** Pack name from the manifest (`docker`). */
  pack: string;
  /** npm package name (`@sonde/pack-docker`). */
  packageName: string;
  version: string;
  keyId: string;
  publisher: string | undefined;
  publishedAt: string;
  /** Content integrity (`sha256-…`), what pins and the pack index refer to. */
  integrity: string;
  manifest: PackManifest;
  /** How the policy admitted it. */
  via: 'pin' | 'allow';
  files: number;
  /**
   * SHA-256 (hex) of every file that was read and verified, by relative path: the signed files (equal to their
   * signed digests) and the signature file itself. Callers that report the content (the agent's attestation)
   * use these instead of reading and hashing the folder again.
   */
  fileDigests: ReadonlyArray<{ path: string; sha256: string }>;
}

export type VerifyFailureCode = Extract<
  RegistryErrorCode,
  | 'SONDE_ERR_PACK_UNSIGNED'
  | 'SONDE_ERR_PACK_MALFORMED'
  | 'SONDE_ERR_PACK_BAD_SIGNATURE'
  | 'SONDE_ERR_PACK_UNKNOWN_KEY'
  | 'SONDE_ERR_PACK_MANIFEST_MISMATCH'
  | 'SONDE_ERR_PACK_FILE_CHANGED'
  | 'SONDE_ERR_PACK_FILE_ADDED'
  | 'SONDE_ERR_PACK_FILE_REMOVED'
  | 'SONDE_ERR_PACK_KEY_NOT_VALID'
  | 'SONDE_ERR_PACK_KEY_REVOKED'
  | 'SONDE_ERR_PACK_VERSION_REVOKED'
  | 'SONDE_ERR_PACK_DENIED'
  | 'SONDE_ERR_PACK_NOT_ALLOWED'
  | 'SONDE_ERR_PACK_PIN_MISMATCH'
>;

export interface VerifyFailure {
  ok: false;
  code: VerifyFailureCode;
  reason: string;
  /** The file concerned, for the file codes. */
  file?: string;
  /** What the signature claims, when it could be read (for logs and audit, not trusted unless the code says so). */
  claimed?: { packageName: string; pack: string; version: string; keyId: string; publishedAt: string };
}

export type VerifyResult = VerifiedPack | VerifyFailure;

export interface VerifyOptions {
  /** Clock for the "published in the future" check; defaults to now. */
  now?: Date;
  /** Tolerated clock skew between publisher and verifier, default 5 minutes. */
  clockSkewMs?: number;
  /** Folders only: count a top-level node_modules as pack content (installed copies, see installVerifiedPack). */
  includeNodeModules?: boolean;
}

function fail(code: VerifyFailureCode, reason: string, extra: Partial<VerifyFailure> = {}): VerifyFailure {
  return { ok: false, code, reason, ...extra };
}

/**
 * Verifies files already read into memory. Order: the signature must be
 * authentic before its content claims mean anything, then content, then the
 * key's standing (revocation, window), then the version and the policy.
 */
export function verifyPackContents(contents: PackContents, trust: Trust, options: VerifyOptions = {}): VerifyResult {
  try {
    return verifyOrThrow(contents, trust, options);
  } catch (error) {
    if (error instanceof RegistryError && error.code.startsWith('SONDE_ERR_PACK_')) {
      return fail(error.code as VerifyFailureCode, error.message, error.file ? { file: error.file } : {});
    }
    throw error;
  }
}

function verifyOrThrow(contents: PackContents, trust: Trust, options: VerifyOptions): VerifyResult {
  if (!contents.has(SIGNATURE_FILE)) {
    return fail('SONDE_ERR_PACK_UNSIGNED', `no ${SIGNATURE_FILE}: unsigned packs are always refused; sign with sonde-registry sign`);
  }
  const parsed = SignatureFileSchema.safeParse(parseJsonFile(contents, SIGNATURE_FILE));
  if (!parsed.success)
    return fail('SONDE_ERR_PACK_MALFORMED', `${SIGNATURE_FILE} is malformed: ${z.prettifyError(parsed.error)}`, { file: SIGNATURE_FILE });
  const { statement, signature } = parsed.data;
  const claimed = {
    packageName: statement.package.name,
    pack: statement.pack.name,
    version: statement.package.version,
    keyId: statement.keyId,
    publishedAt: statement.publishedAt,
  };
  const refuse = (code: VerifyFailureCode, reason: string, file?: string): VerifyFailure =>
    fail(code, reason, { claimed, ...(file ? { file } : {}) });

  const key = trust.key(statement.keyId);
  if (key === undefined) return refuse('SONDE_ERR_PACK_UNKNOWN_KEY', `signed by key ${statement.keyId}, which is not in the trust store`);
  if (!verifyDetached('sonde-pack/v1', canonicalJson(statement), signature, key.publicKey)) {
    return refuse('SONDE_ERR_PACK_BAD_SIGNATURE', `the signature does not verify against key ${key.keyId}`);
  }

  const contentFailure = checkContent(contents, statement);
  if (contentFailure) return { ...contentFailure, claimed };
  const { manifest } = readManifest(contents, 'SONDE_ERR_PACK_MALFORMED');
  const pkg = readPackageIdentity(contents, 'SONDE_ERR_PACK_MALFORMED');
  if (pkg.name !== statement.package.name || pkg.version !== statement.package.version) {
    return refuse(
      'SONDE_ERR_PACK_MANIFEST_MISMATCH',
      `package.json names ${pkg.name}@${pkg.version} but the signature covers ${statement.package.name}@${statement.package.version}`,
    );
  }
  if (manifest.name !== statement.pack.name || manifest.version !== statement.pack.version || manifest.version !== pkg.version) {
    return refuse(
      'SONDE_ERR_PACK_MANIFEST_MISMATCH',
      `${MANIFEST_FILE} names ${manifest.name}@${manifest.version}, the signature ${statement.pack.name}@${statement.pack.version}`,
    );
  }

  const names = [statement.package.name, statement.pack.name];
  const standing = signerStandingRefusal(
    trust,
    key,
    { publishedAt: statement.publishedAt, names, version: statement.package.version },
    options,
  );
  if (standing) return refuse(standing.code, standing.reason);
  const integrity = packIntegrity(statement);
  const decision = trust.decide(names, statement.package.version, key, integrity);
  if (!decision.ok) return refuse(decision.code, decision.reason);

  return {
    ok: true,
    pack: manifest.name,
    packageName: statement.package.name,
    version: statement.package.version,
    keyId: key.keyId,
    publisher: key.publisher,
    publishedAt: statement.publishedAt,
    integrity,
    manifest,
    via: decision.via,
    files: statement.files.length,
    fileDigests: [
      ...statement.files.map((file) => ({ path: file.path, sha256: file.sha256 })),
      { path: SIGNATURE_FILE, sha256: sha256Hex(contents.get(SIGNATURE_FILE)!) },
    ],
  };
}

function checkContent(contents: PackContents, statement: PackStatement): VerifyFailure | undefined {
  const rawManifest = parseJsonFile(contents, MANIFEST_FILE);
  if (rawManifest === undefined) return fail('SONDE_ERR_PACK_FILE_REMOVED', `${MANIFEST_FILE} is missing`, { file: MANIFEST_FILE });
  if (manifestDigest(rawManifest) !== statement.manifest) {
    return fail(
      'SONDE_ERR_PACK_MANIFEST_MISMATCH',
      `${MANIFEST_FILE} differs from the signed manifest (permissions or probes changed after signing)`,
      {
        file: MANIFEST_FILE,
      },
    );
  }
  const refusal = signedFilesRefusal(contents, statement.files, SIGNATURE_FILE);
  return refusal ? fail(refusal.code, refusal.reason, refusal.file ? { file: refusal.file } : {}) : undefined;
}

/** Verifies an unpacked pack folder (an installed pack). Call at install and at every load. */
export async function verifyPackDir(dir: string, trust: Trust, options: VerifyOptions = {}): Promise<VerifyResult> {
  return verifyLoaded(() => readPackDir(dir, { includeNodeModules: options.includeNodeModules }), trust, options);
}

/** Verifies an npm tarball without unpacking it. */
export async function verifyPackTarball(path: string, trust: Trust, options: VerifyOptions = {}): Promise<VerifyResult> {
  return verifyLoaded(() => readPackTarball(path), trust, options);
}

/** A folder, or a `.tgz`/`.tar.gz` file. */
export async function verifyPack(path: string, trust: Trust, options: VerifyOptions = {}): Promise<VerifyResult> {
  const info = await stat(path).catch(() => undefined);
  if (info?.isFile() || (info === undefined && isTarballPath(path))) return verifyPackTarball(path, trust, options);
  return verifyPackDir(path, trust, options);
}

async function verifyLoaded(load: () => Promise<PackContents>, trust: Trust, options: VerifyOptions): Promise<VerifyResult> {
  let contents: PackContents;
  try {
    contents = await load();
  } catch (error) {
    if (error instanceof RegistryError) return fail('SONDE_ERR_PACK_MALFORMED', error.message, error.file ? { file: error.file } : {});
    throw error;
  }
  return verifyPackContents(contents, trust, options);
}
