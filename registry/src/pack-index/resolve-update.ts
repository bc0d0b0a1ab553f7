import semver from 'semver';
import type { RegistryErrorCode } from '../errors.js';
import type { IndexVersion, PackIndex, UnsignedPackIndex } from './index-file.js';

export type UpdateResolution =
  | { ok: true; action: 'update' | 'downgrade'; version: string; integrity: string; entry: IndexVersion }
  | { ok: true; action: 'none'; version: string; integrity: string | undefined }
  | { ok: false; code: Extract<RegistryErrorCode, 'SONDE_ERR_INDEX_NOT_FOUND' | 'SONDE_ERR_DOWNGRADE'>; reason: string; version?: string };

export interface ResolveUpdateOptions {
  /** Accept a version older than the installed one (an operator's explicit rollback). */
  allowDowngrade?: boolean;
}

/**
 * The newest version the (already verified) index allows within `range`.
 * Older than `currentVersion` is refused unless `allowDowngrade`: a stale or
 * hostile mirror must not be able to roll a pack back to a known-bad version.
 */
export function resolveUpdate(
  index: PackIndex | UnsignedPackIndex,
  name: string,
  currentVersion: string | undefined,
  range = '*',
  options: ResolveUpdateOptions = {},
): UpdateResolution {
  const entries = index.packs[name] ?? [];
  const best = semver.maxSatisfying(
    entries.map((entry) => entry.version),
    range,
  );
  const entry = best === null ? undefined : entries.find((candidate) => candidate.version === best);
  if (entry === undefined) {
    return { ok: false, code: 'SONDE_ERR_INDEX_NOT_FOUND', reason: `the pack index allows no version of ${name} in range ${range}` };
  }
  if (currentVersion === undefined) return { ok: true, action: 'update', version: entry.version, integrity: entry.integrity, entry };
  const order = semver.compare(entry.version, currentVersion);
  if (order === 0) return { ok: true, action: 'none', version: entry.version, integrity: entry.integrity };
  if (order > 0) return { ok: true, action: 'update', version: entry.version, integrity: entry.integrity, entry };
  if (!options.allowDowngrade) {
    return {
      ok: false,
      code: 'SONDE_ERR_DOWNGRADE',
      reason: `newest allowed ${name} in ${range} is ${entry.version}, older than installed ${currentVersion}; pass allowDowngrade (--allow-downgrade) to roll back`,
      version: entry.version,
    };
  }
  return { ok: true, action: 'downgrade', version: entry.version, integrity: entry.integrity, entry };
}
