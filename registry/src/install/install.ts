import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { RegistryError } from '../errors.js';
import { readPackDir, readPackTarball, type PackContents } from '../pack/contents.js';
import { safeRelativePath } from '../pack/tar.js';
import { verifyPackContents, verifyPackDir, type VerifiedPack, type VerifyFailure, type VerifyOptions } from '../pack/verify.js';
import type { Trust } from '../trust/trust.js';

export type InstallSource = { tarball: string } | { dir: string };

export interface InstalledVersion {
  ok: true;
  /** `<storeDir>/<packageName>/<version>`. */
  dir: string;
  verified: VerifiedPack;
  /** The same content was already installed; nothing was written. */
  reused: boolean;
}

/** Where a version lives in a store: one folder per package and version, side by side. */
export function storePath(storeDir: string, packageName: string, version: string): string {
  return join(storeDir, ...packageName.split('/'), version);
}

/** Verifies an installed copy: everything in it counts, a later `node_modules` included. */
export function verifyInstalled(dir: string, trust: Trust, options: VerifyOptions = {}): Promise<VerifiedPack | VerifyFailure> {
  return verifyPackDir(dir, trust, { ...options, includeNodeModules: true });
}

/**
 * Verifies a pack in memory and only then writes exactly the verified files
 * to `<storeDir>/<package>/<version>/`: nothing of a refused pack ever reaches
 * the disk, and the folder appears whole or not at all (written under a
 * temporary name, then renamed). Versions live side by side so an approved
 * version keeps serving while a newer one waits for approval.
 */
export async function installVerifiedPack(
  storeDir: string,
  source: InstallSource,
  trust: Trust,
  options: VerifyOptions = {},
): Promise<InstalledVersion | VerifyFailure> {
  let contents: PackContents;
  try {
    contents = 'tarball' in source ? await readPackTarball(source.tarball) : await readPackDir(source.dir);
  } catch (error) {
    if (error instanceof RegistryError) return { ok: false, code: 'SONDE_ERR_PACK_MALFORMED', reason: error.message };
    throw error;
  }
  const verified = verifyPackContents(contents, trust, options);
  if (!verified.ok) return verified;

  const target = storePath(storeDir, verified.packageName, verified.version);
  if (existsSync(target)) {
    const present = await verifyInstalled(target, trust, options);
    if (present.ok && present.integrity === verified.integrity) return { ok: true, dir: target, verified, reused: true };
    if (present.ok) {
      throw new RegistryError(
        'SONDE_ERR_PACK_VERSION_CONFLICT',
        `${verified.packageName}@${verified.version} is already installed with other content (${present.integrity}); a published version never changes: remove it first if this is intended`,
      );
    }
    // The installed copy no longer verifies (tampered or half-written): the verified one replaces it.
  }
  await mkdir(dirname(target), { recursive: true, mode: 0o755 });
  const staging = join(dirname(target), `.staging-${verified.version}-${randomBytes(6).toString('hex')}`);
  try {
    for (const [file, bytes] of contents) {
      const destination = join(staging, ...safeRelativePath(file).split('/'));
      await mkdir(dirname(destination), { recursive: true, mode: 0o755 });
      await writeFile(destination, bytes, { mode: 0o644, flag: 'wx' });
    }
    await rm(target, { recursive: true, force: true });
    await rename(staging, target);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return { ok: true, dir: target, verified, reused: false };
}
