import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PackManifestSchema, type PackManifest } from '@sonde/pack-sdk';
import { canonicalJson } from '@sonde/pack-sdk/protocol';
import { z } from 'zod';
import { sha256Hex, sha256Integrity } from '../crypto/digest.js';
import { KeyIdSchema, signDetached, type SigningKey } from '../crypto/keys.js';
import { RegistryError } from '../errors.js';
import { MANIFEST_FILE, PACKAGE_FILE, SIGNATURE_FILE, readPackDir, readPackTarball, type PackContents } from './contents.js';
import { hostPeerProblem } from './host-peers.js';
import { replaceTarFile } from './tar.js';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const SignedFileSchema = z
  .object({
    path: z.string().min(1),
    sha256,
    size: z.number().int().min(0),
  })
  .strict();

/**
 * What a publisher signs. It names content only (package identity, manifest,
 * every file's digest, publish time, key): nothing about where the pack is
 * hosted, so mirrors and offline bundles verify the same.
 */
export const PackStatementSchema = z
  .object({
    type: z.literal('sonde-pack'),
    package: z.object({ name: z.string().min(1).max(214), version: z.string().min(1) }).strict(),
    pack: z.object({ name: z.string().min(1), version: z.string().min(1) }).strict(),
    manifest: sha256.describe('SHA-256 of canonicalJson(sonde-pack.json).'),
    files: z.array(SignedFileSchema),
    publishedAt: z.iso.datetime(),
    keyId: KeyIdSchema,
  })
  .strict();

export const SignatureFileSchema = z
  .object({
    format: z.literal('sonde-signature/1'),
    statement: PackStatementSchema,
    signature: z.string().min(1).describe('Ed25519 over "sonde-pack/v1\\n" + canonicalJson(statement), base64.'),
  })
  .strict();

export type SignedFile = z.infer<typeof SignedFileSchema>;
export type PackStatement = z.infer<typeof PackStatementSchema>;
export type SignatureFile = z.infer<typeof SignatureFileSchema>;

export interface SignOptions {
  /** Signed publish time; defaults to now. Validity windows of keys are checked against it. */
  publishedAt?: Date;
}

export interface SignResult {
  signature: SignatureFile;
  /** Content integrity (`sha256-…`), the value pins and the pack index refer to. */
  integrity: string;
  files: number;
  /** Advice about how the package will be published (folder signing only). */
  warnings: string[];
}

export function manifestDigest(raw: unknown): string {
  return sha256Hex(canonicalJson(raw));
}

/**
 * Integrity of a pack's content, independent of who signed it and when: the
 * same files re-signed after a key rotation keep the same integrity.
 */
export function packIntegrity(statement: Pick<PackStatement, 'package' | 'pack' | 'manifest' | 'files'>): string {
  return sha256Integrity(
    canonicalJson({ package: statement.package, pack: statement.pack, manifest: statement.manifest, files: statement.files }),
  );
}

export function parseJsonFile(contents: PackContents, path: string): unknown {
  const bytes = contents.get(path);
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    throw new RegistryError('SONDE_ERR_PACK_MALFORMED', `${path} is not valid JSON`, path);
  }
}

export function readPackageIdentity(
  contents: PackContents,
  code: 'SONDE_ERR_SIGN_FAILED' | 'SONDE_ERR_PACK_MALFORMED',
): { name: string; version: string } {
  const parsed = z.object({ name: z.string().min(1), version: z.string().min(1) }).safeParse(parseJsonFile(contents, PACKAGE_FILE));
  if (!parsed.success) throw new RegistryError(code, `${PACKAGE_FILE} is missing or has no name and version`, PACKAGE_FILE);
  return parsed.data;
}

export function readManifest(
  contents: PackContents,
  code: 'SONDE_ERR_SIGN_FAILED' | 'SONDE_ERR_PACK_MALFORMED',
): { raw: unknown; manifest: PackManifest } {
  const raw = parseJsonFile(contents, MANIFEST_FILE);
  if (raw === undefined) throw new RegistryError(code, `${MANIFEST_FILE} is missing: a pack must ship its manifest`, MANIFEST_FILE);
  const parsed = PackManifestSchema.safeParse(raw);
  if (!parsed.success)
    throw new RegistryError(code, `${MANIFEST_FILE} is not a valid pack manifest: ${z.prettifyError(parsed.error)}`, MANIFEST_FILE);
  return { raw, manifest: parsed.data };
}

/** Digests of every file except the signature itself, sorted by path (code-unit order). */
export function digestFiles(contents: PackContents): SignedFile[] {
  return [...contents.keys()]
    .filter((path) => path !== SIGNATURE_FILE)
    .sort()
    .map((path) => {
      const bytes = contents.get(path)!;
      return { path, sha256: sha256Hex(bytes), size: bytes.length };
    });
}

export function signPackContents(contents: PackContents, key: SigningKey, options: SignOptions = {}): SignResult {
  const pkg = readPackageIdentity(contents, 'SONDE_ERR_SIGN_FAILED');
  const { raw, manifest } = readManifest(contents, 'SONDE_ERR_SIGN_FAILED');
  const peers = hostPeerProblem(parseJsonFile(contents, PACKAGE_FILE));
  if (peers) throw new RegistryError('SONDE_ERR_SIGN_FAILED', peers, PACKAGE_FILE);
  if (manifest.version !== pkg.version) {
    throw new RegistryError(
      'SONDE_ERR_SIGN_FAILED',
      `${MANIFEST_FILE} says version ${manifest.version} but ${PACKAGE_FILE} says ${pkg.version}; rebuild the manifest`,
    );
  }
  const statement: PackStatement = {
    type: 'sonde-pack',
    package: pkg,
    pack: { name: manifest.name, version: manifest.version },
    manifest: manifestDigest(raw),
    files: digestFiles(contents),
    publishedAt: (options.publishedAt ?? new Date()).toISOString(),
    keyId: key.keyId,
  };
  const signature: SignatureFile = {
    format: 'sonde-signature/1',
    statement,
    signature: signDetached('sonde-pack/v1', canonicalJson(statement), key),
  };
  return { signature, integrity: packIntegrity(statement), files: statement.files.length, warnings: [] };
}

export function serializeSignature(signature: SignatureFile): Buffer {
  return Buffer.from(`${JSON.stringify(signature, null, 2)}\n`, 'utf8');
}

const ALWAYS_PACKED = /^(package\.json|readme(\..*)?|license(\..*)?|licence(\..*)?|changelog(\..*)?)$/i;

/**
 * Folder signing signs what is in the folder, but npm publishes only what
 * `files` in package.json lets through. Names the top-level entries npm would
 * leave out (a tarball would then fail with FILE_REMOVED) and a missing
 * signature entry (it would ship unsigned). A rough check of npm's rules, for
 * advice only.
 */
export function packagingWarnings(contents: PackContents): string[] {
  const files = (parseJsonFile(contents, PACKAGE_FILE) as { files?: unknown } | undefined)?.files;
  if (!Array.isArray(files)) return [];
  const allowed = new Set(
    files.filter((entry): entry is string => typeof entry === 'string').map((entry) => entry.replace(/^\.\//, '').split('/')[0]),
  );
  const warnings: string[] = [];
  if (!allowed.has(SIGNATURE_FILE))
    warnings.push(`package.json "files" does not list ${SIGNATURE_FILE}: npm pack would publish this pack unsigned`);
  const tops = new Set([...contents.keys()].map((path) => path.split('/')[0]));
  const left = [...tops].filter((top) => top !== SIGNATURE_FILE && !allowed.has(top) && !ALWAYS_PACKED.test(top)).sort();
  if (left.length > 0) {
    warnings.push(
      `npm pack would leave out ${left.join(', ')} (not in package.json "files"), so its tarball would not verify; sign the tarball from npm pack instead`,
    );
  }
  return warnings;
}

/** Signs an unpacked package folder in place: writes `sonde-signature.json` next to `package.json`. */
export async function signPackDir(dir: string, key: SigningKey, options: SignOptions = {}): Promise<SignResult> {
  const contents = await readPackDir(dir);
  const result = signPackContents(contents, key, options);
  await writeFile(join(dir, SIGNATURE_FILE), serializeSignature(result.signature));
  return { ...result, warnings: packagingWarnings(contents) };
}

/**
 * Signs a tarball from `npm pack`: writes a copy (or overwrites it when `out`
 * is the same path) with `package/sonde-signature.json` added, every other
 * entry unchanged. Sign what you publish: `npm pack` may rewrite package.json.
 */
export async function signPackTarball(path: string, key: SigningKey, options: SignOptions & { out?: string } = {}): Promise<SignResult> {
  const result = signPackContents(await readPackTarball(path), key, options);
  const publishedAt = options.publishedAt ?? new Date(result.signature.statement.publishedAt);
  const rewritten = replaceTarFile(await readFile(path), SIGNATURE_FILE, serializeSignature(result.signature), publishedAt);
  await writeFile(options.out ?? path, rewritten);
  return result;
}
