import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '@sonde/pack-sdk/protocol';
import semver from 'semver';
import { z } from 'zod';
import { sha256Integrity } from '../crypto/digest.js';
import { KeyIdSchema, signDetached, verifyDetached, type SigningKey } from '../crypto/keys.js';
import { RegistryError } from '../errors.js';
import { readPackDir, readPackTarball, type PackContents } from '../pack/contents.js';
import { SignedFileSchema, digestFiles, parseJsonFile, readPackageIdentity } from '../pack/signature.js';
import { replaceTarFile } from '../pack/tar.js';
import type { VerifyFailure, VerifyFailureCode, VerifyOptions } from '../pack/verify.js';
import { Trust } from '../trust/trust.js';
import { signedFilesRefusal, signerStandingRefusal } from '../pack/standing.js';

/**
 * Signed releases of a program (the agent itself), as opposed to packs: no
 * `sonde-pack.json`, no permissions, only "this package, at this version, is
 * exactly these files, published at this time by this key". Same keys, trust
 * store, windows, rotations and revocation list as packs; a statement type and
 * a signature domain of its own, so a pack signature can never pass for a
 * release signature or the other way round.
 */
export const RELEASE_SIGNATURE_FILE = 'sonde-release-signature.json';
export const RELEASE_DOMAIN = 'sonde-release/v1';

export const ReleaseStatementSchema = z
  .object({
    type: z.literal('sonde-release'),
    package: z.object({ name: z.string().min(1).max(214), version: z.string().min(1) }).strict(),
    files: z.array(SignedFileSchema),
    publishedAt: z.iso.datetime(),
    keyId: KeyIdSchema,
  })
  .strict();

export const ReleaseSignatureFileSchema = z
  .object({
    format: z.literal('sonde-release-signature/1'),
    statement: ReleaseStatementSchema,
    signature: z.string().min(1).describe('Ed25519 over "sonde-release/v1\\n" + canonicalJson(statement), base64.'),
  })
  .strict();

export type ReleaseStatement = z.infer<typeof ReleaseStatementSchema>;
export type ReleaseSignatureFile = z.infer<typeof ReleaseSignatureFileSchema>;

export interface ReleaseSignResult {
  signature: ReleaseSignatureFile;
  integrity: string;
  files: number;
}

export interface VerifiedRelease {
  ok: true;
  packageName: string;
  version: string;
  keyId: string;
  publisher: string | undefined;
  publishedAt: string;
  /** Content identity (`sha256-…`): package name, version and every file digest; not the signer or time. */
  integrity: string;
  via: 'pin' | 'allow';
  files: number;
  /** True when the signed files include a `node_modules/` (dependencies bundled and signed). */
  bundled: boolean;
}

export type ReleaseVerifyResult = VerifiedRelease | VerifyFailure;

export interface ReleaseVerifyOptions extends VerifyOptions {
  /** Refuse (SONDE_ERR_PACK_NOT_ALLOWED) a release of any other package, e.g. `@sonde/agent`. */
  expectedName?: string;
}

export function releaseIntegrity(statement: Pick<ReleaseStatement, 'package' | 'files'>): string {
  return sha256Integrity(canonicalJson({ type: 'sonde-release', package: statement.package, files: statement.files }));
}

function withoutSignature(contents: PackContents): PackContents {
  return new Map([...contents].filter(([path]) => path !== RELEASE_SIGNATURE_FILE));
}

/** Signs files already in memory: package identity from package.json, every other file by digest. */
export function signReleaseContents(contents: PackContents, key: SigningKey, options: { publishedAt?: Date } = {}): ReleaseSignResult {
  const pkg = readPackageIdentity(contents, 'SONDE_ERR_SIGN_FAILED');
  if (semver.valid(pkg.version) === null) {
    throw new RegistryError('SONDE_ERR_SIGN_FAILED', `package.json version ${pkg.version} is not a semver version`, 'package.json');
  }
  const statement: ReleaseStatement = {
    type: 'sonde-release',
    package: pkg,
    files: digestFiles(withoutSignature(contents)),
    publishedAt: (options.publishedAt ?? new Date()).toISOString(),
    keyId: key.keyId,
  };
  const signature: ReleaseSignatureFile = {
    format: 'sonde-release-signature/1',
    statement,
    signature: signDetached(RELEASE_DOMAIN, canonicalJson(statement), key),
  };
  return { signature, integrity: releaseIntegrity(statement), files: statement.files.length };
}

/**
 * Signs a tarball from `npm pack`: writes a copy (or overwrites it) with
 * `package/sonde-release-signature.json` added, every other entry unchanged.
 */
export async function signReleaseTarball(
  path: string,
  key: SigningKey,
  options: { publishedAt?: Date; out?: string } = {},
): Promise<ReleaseSignResult> {
  const result = signReleaseContents(await readPackTarball(path), key, options);
  const publishedAt = new Date(result.signature.statement.publishedAt);
  const bytes = Buffer.from(`${JSON.stringify(result.signature, null, 2)}\n`, 'utf8');
  await writeFile(options.out ?? path, replaceTarFile(await readFile(path), RELEASE_SIGNATURE_FILE, bytes, publishedAt));
  return result;
}

function fail(code: VerifyFailureCode, reason: string, extra: Partial<VerifyFailure> = {}): VerifyFailure {
  return { ok: false, code, reason, ...extra };
}

// Releases need an allow rule that names the package itself: a broad `*` rule
// given to a pack publisher must not let that publisher replace the agent.
const releaseTrusts = new WeakMap<Trust, Map<string, Trust>>();

function releaseTrust(trust: Trust, name: string): Trust {
  let byName = releaseTrusts.get(trust);
  if (byName === undefined) releaseTrusts.set(trust, (byName = new Map<string, Trust>()));
  let restricted = byName.get(name);
  if (restricted === undefined) {
    const { policy } = trust.store;
    restricted = new Trust(
      { ...trust.store, policy: { ...policy, allow: policy.allow.filter((rule) => rule.pack === name) } },
      { revocations: trust.revocations },
    );
    byName.set(name, restricted);
  }
  return restricted;
}

/**
 * Verifies a release held in memory (a tarball read with readPackTarball, or
 * a folder). Order as for packs: authentic signature, then content, then the
 * key's standing, then the version and the policy. Never throws for a bad
 * release.
 */
export function verifyReleaseContents(contents: PackContents, trust: Trust, options: ReleaseVerifyOptions = {}): ReleaseVerifyResult {
  try {
    return verifyOrThrow(contents, trust, options);
  } catch (error) {
    if (error instanceof RegistryError && error.code.startsWith('SONDE_ERR_PACK_')) {
      return fail(error.code as VerifyFailureCode, error.message, error.file ? { file: error.file } : {});
    }
    throw error;
  }
}

function verifyOrThrow(contents: PackContents, trust: Trust, options: ReleaseVerifyOptions): ReleaseVerifyResult {
  if (!contents.has(RELEASE_SIGNATURE_FILE)) {
    return fail('SONDE_ERR_PACK_UNSIGNED', `no ${RELEASE_SIGNATURE_FILE}: unsigned releases are always refused`);
  }
  const parsed = ReleaseSignatureFileSchema.safeParse(parseJsonFile(contents, RELEASE_SIGNATURE_FILE));
  if (!parsed.success) {
    return fail('SONDE_ERR_PACK_MALFORMED', `${RELEASE_SIGNATURE_FILE} is malformed: ${z.prettifyError(parsed.error)}`, {
      file: RELEASE_SIGNATURE_FILE,
    });
  }
  const { statement, signature } = parsed.data;
  const claimed = {
    packageName: statement.package.name,
    pack: statement.package.name,
    version: statement.package.version,
    keyId: statement.keyId,
    publishedAt: statement.publishedAt,
  };
  const refuse = (code: VerifyFailureCode, reason: string, file?: string): VerifyFailure =>
    fail(code, reason, { claimed, ...(file ? { file } : {}) });

  const key = trust.key(statement.keyId);
  if (key === undefined) return refuse('SONDE_ERR_PACK_UNKNOWN_KEY', `signed by key ${statement.keyId}, which is not in the trust store`);
  if (!verifyDetached(RELEASE_DOMAIN, canonicalJson(statement), signature, key.publicKey)) {
    return refuse('SONDE_ERR_PACK_BAD_SIGNATURE', `the release signature does not verify against key ${key.keyId}`);
  }

  const files = signedFilesRefusal(contents, statement.files, RELEASE_SIGNATURE_FILE);
  if (files) return refuse(files.code, files.reason, files.file);
  const pkg = readPackageIdentity(contents, 'SONDE_ERR_PACK_MALFORMED');
  if (pkg.name !== statement.package.name || pkg.version !== statement.package.version) {
    return refuse(
      'SONDE_ERR_PACK_MANIFEST_MISMATCH',
      `package.json names ${pkg.name}@${pkg.version} but the signature covers ${statement.package.name}@${statement.package.version}`,
    );
  }
  if (options.expectedName !== undefined && pkg.name !== options.expectedName) {
    return refuse('SONDE_ERR_PACK_NOT_ALLOWED', `this is a release of ${pkg.name}, not of ${options.expectedName}`);
  }

  const names = [statement.package.name];
  const standing = signerStandingRefusal(
    trust,
    key,
    { publishedAt: statement.publishedAt, names, version: statement.package.version },
    options,
  );
  if (standing) return refuse(standing.code, standing.reason);
  const integrity = releaseIntegrity(statement);
  const decision = releaseTrust(trust, statement.package.name).decide(names, statement.package.version, key, integrity);
  if (!decision.ok) {
    const reason =
      decision.code === 'SONDE_ERR_PACK_NOT_ALLOWED'
        ? `${decision.reason} (a release needs an allow rule whose pack is exactly ${statement.package.name}, or a pin)`
        : decision.reason;
    return refuse(decision.code, reason);
  }
  return {
    ok: true,
    packageName: statement.package.name,
    version: statement.package.version,
    keyId: key.keyId,
    publisher: key.publisher,
    publishedAt: statement.publishedAt,
    integrity,
    via: decision.via,
    files: statement.files.length,
    bundled: statement.files.some((file) => file.path.startsWith('node_modules/')),
  };
}

async function loadThen(load: () => Promise<PackContents>, verify: (contents: PackContents) => ReleaseVerifyResult) {
  let contents: PackContents;
  try {
    contents = await load();
  } catch (error) {
    if (error instanceof RegistryError) return fail('SONDE_ERR_PACK_MALFORMED', error.message, error.file ? { file: error.file } : {});
    throw error;
  }
  return verify(contents);
}

/** Verifies an npm tarball in memory, without unpacking it. */
export async function verifyReleaseTarball(path: string, trust: Trust, options: ReleaseVerifyOptions = {}): Promise<ReleaseVerifyResult> {
  return loadThen(
    () => readPackTarball(path),
    (contents) => verifyReleaseContents(contents, trust, options),
  );
}

/**
 * Reads an installed release folder. The top-level `node_modules` is left out
 * (dependencies npm installed after verification) unless the signature lists
 * files under it: then the release is bundled and its whole `node_modules` is
 * read, so an added file there is refused like anywhere else.
 */
export async function readReleaseDir(dir: string): Promise<PackContents> {
  const contents = await readPackDir(dir);
  const parsed = ReleaseSignatureFileSchema.safeParse(
    (() => {
      try {
        return parseJsonFile(contents, RELEASE_SIGNATURE_FILE);
      } catch {
        return undefined;
      }
    })(),
  );
  const bundled = parsed.success && parsed.data.statement.files.some((file) => file.path.startsWith('node_modules/'));
  const modules = join(dir, 'node_modules');
  if (bundled && (await stat(modules).catch(() => undefined))?.isDirectory()) {
    for (const [path, bytes] of await readPackDir(modules)) contents.set(`node_modules/${path}`, bytes);
  }
  return contents;
}

/** Verifies an installed (unpacked) release folder, e.g. before running it. */
export async function verifyReleaseDir(dir: string, trust: Trust, options: ReleaseVerifyOptions = {}): Promise<ReleaseVerifyResult> {
  return loadThen(
    () => readReleaseDir(dir),
    (contents) => verifyReleaseContents(contents, trust, options),
  );
}
