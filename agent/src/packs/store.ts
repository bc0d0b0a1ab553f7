import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PackManifestSchema, type PackManifest } from '@sonde/pack-sdk';
import { diffPermissions, verifyInstalled, type Trust, type VerifiedPack, type VerifyFailure } from '@sonde/registry';
import type Semver from 'semver';
import { z } from 'zod';
import { requireCjs } from '../cjs.js';
import { AgentError } from '../errors.js';
import { readJsonFile, writePrivateFile, type HomePaths } from '../home.js';
import { isPackDependency, permissionsDigest, treeDigestOf } from './digest.js';

const semver = requireCjs('semver') as typeof Semver;

/**
 * Installed packs live side by side, one folder per version:
 * `<packsDir>/store/<package>/<version>/`, each written whole from a verified
 * signed package (registry installVerifiedPack). `<packsDir>/node_modules`
 * holds only what the agent lends to packs (@sonde/pack-sdk, zod).
 *
 * Which version serves is decided by the operator's approval, never by what is
 * newest: the approved version serves while a newer one with wider permissions
 * waits, and every version is verified again each time it is read here.
 */

export const ApprovalSchema = z
  .object({
    packageName: z.string(),
    version: z.string(),
    permissionsSha256: z.string(),
    approvedAt: z.string(),
    /** Content identity of the approved version (sha256-…), from its signature. */
    integrity: z.string().optional(),
    /** Who approved: `cli` (local operator) or `hub:<user>` (remote, admin). */
    by: z.string().optional(),
  })
  .strict();
export const ApprovalsSchema = z.object({ packs: z.record(z.string(), ApprovalSchema).default({}) }).strict();
export type Approval = z.infer<typeof ApprovalSchema>;
export type Approvals = z.infer<typeof ApprovalsSchema>;

/**
 * A pending version an admin rejected through the hub, pinned to its version
 * and permissions digest: that candidate is never loaded or offered for
 * approval again; another version (or another digest) is pending as usual. A
 * local `sonde packs approve` still overrides it (the host's operator decides
 * last) and clears the record.
 */
export const RejectionSchema = z
  .object({
    version: z.string(),
    permissionsSha256: z.string(),
    integrity: z.string().optional(),
    rejectedAt: z.string(),
    by: z.string(),
  })
  .strict();
export const RejectionsSchema = z.object({ packs: z.record(z.string(), RejectionSchema).default({}) }).strict();
export type Rejection = z.infer<typeof RejectionSchema>;
export type Rejections = z.infer<typeof RejectionsSchema>;

export const PACK_REJECTED_CODE = 'SONDE_ERR_PACK_REJECTED';

export interface InstalledPack {
  name: string;
  packageName: string;
  version: string;
  dir: string;
  entry: string;
  /** The manifest that was signed (from verification, not a fresh read). */
  manifest: PackManifest;
  permissionsSha256: string;
  integrity: string;
  keyId: string;
  publishedAt: string;
  /**
   * The attestation's digest of the folder (packs/digest.ts treeDigest without node_modules), from the digests
   * verification computed of exactly these files: the first registration after a load need not hash them again.
   */
  verifiedTreeSha256: string;
}

export interface PendingVersion {
  version: string;
  dir: string;
  /** What the pending version may do that the approved one may not (empty for a first install). */
  added: string[];
  removed: string[];
  /** Set when the pending version itself does not verify. */
  refused?: { code: string; reason: string };
}

export interface PackListing {
  name: string;
  packageName: string;
  /** The serving version when active; otherwise the version an approval would activate. */
  version: string;
  state: 'active' | 'pending' | 'failed' | 'rejected';
  reason?: string;
  /** Registry refusal code when a version fails verification. */
  code?: string;
  dir: string;
  permissionsSha256?: string;
  integrity?: string;
  approvedVersion?: string;
  /** A newer installed version awaiting approval while `version` keeps serving. */
  pending?: PendingVersion;
  /** The candidate an admin rejected (not loaded, not pending) while it is still the newest installed. */
  rejected?: Rejection;
  /** Every installed version, newest first. */
  versions: string[];
}

export interface PackResolution {
  listing: PackListing;
  /** Set when active: what the runtime may load. */
  serving?: InstalledPack;
  /** The newest verified version an approval would activate (pending update or first install). */
  candidate?: InstalledPack;
  /** That version when an admin rejected exactly it: no longer a candidate. */
  rejectedCandidate?: InstalledPack;
}

/** Packages the agent lends to packs so a pack needs no copy of its own (declared as peers by packs). */
const HOST_PACKAGES = ['@sonde/pack-sdk', 'zod'];

export function storeDirOf(packsDir: string): string {
  return path.join(packsDir, 'store');
}

function packageRootOf(specifier: string): string {
  let dir = path.dirname(fileURLToPath(import.meta.resolve(specifier)));
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate) && (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === specifier) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot locate the ${specifier} package`);
    dir = parent;
  }
}

/** Creates the packs folder and links the host packages into it (idempotent). */
export function preparePacksDir(packsDir: string): void {
  mkdirSync(path.join(packsDir, 'node_modules'), { recursive: true, mode: 0o700 });
  mkdirSync(storeDirOf(packsDir), { recursive: true, mode: 0o755 });
  for (const name of HOST_PACKAGES) {
    const link = path.join(packsDir, 'node_modules', name);
    if (existsSync(link) || isDanglingLink(link)) continue;
    mkdirSync(path.dirname(link), { recursive: true });
    symlinkSync(packageRootOf(name), link, 'dir');
  }
}

function isDanglingLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

interface PackageJson {
  name?: string;
  version?: string;
  sonde?: { manifest?: string; entry?: string };
  main?: string;
}

function entryOf(dir: string, pkg: PackageJson): string {
  const declared = pkg.sonde?.entry ?? (typeof pkg.main === 'string' ? pkg.main : undefined) ?? './dist/index.js';
  const entry = path.resolve(dir, declared);
  if (!entry.startsWith(`${dir}${path.sep}`))
    throw new AgentError('SONDE_ERR_PACK_INVALID', `${dir}: entry ${declared} points outside the pack.`);
  return entry;
}

/** Folders of one package's installed versions, newest first (`<store>/<package>/<version>`). */
interface StoredPackage {
  packageName: string;
  versions: Array<{ version: string; dir: string }>;
}

export function storedPackages(packsDir: string): StoredPackage[] {
  const store = storeDirOf(packsDir);
  if (!existsSync(store)) return [];
  const packageDirs: Array<{ packageName: string; dir: string }> = [];
  for (const entry of readdirSync(store, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const full = path.join(store, entry.name);
    if (entry.name.startsWith('@')) {
      for (const inner of readdirSync(full, { withFileTypes: true })) {
        if (inner.isDirectory() && !inner.name.startsWith('.'))
          packageDirs.push({ packageName: `${entry.name}/${inner.name}`, dir: path.join(full, inner.name) });
      }
    } else {
      packageDirs.push({ packageName: entry.name, dir: full });
    }
  }
  return packageDirs
    .map(({ packageName, dir }) => ({
      packageName,
      versions: readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && semver.valid(entry.name) !== null)
        .map((entry) => ({ version: entry.name, dir: path.join(dir, entry.name) }))
        .sort((a, b) => semver.rcompare(a.version, b.version)),
    }))
    .filter((stored) => stored.versions.length > 0)
    .sort((a, b) => a.packageName.localeCompare(b.packageName));
}

/**
 * The pack name an unverified copy claims, only to key approvals; nothing is trusted from it. Only the name is
 * checked here: verification parses the whole manifest right after (a second full parse cost ~10 ms per pack).
 */
function claimedPackName(dir: string, fallback: string): string {
  try {
    const parsed = PackManifestSchema.shape.name.safeParse((readJsonFile(path.join(dir, 'sonde-pack.json')) as { name?: unknown })?.name);
    return parsed.success ? parsed.data : fallback;
  } catch {
    return fallback;
  }
}

function installedFrom(dir: string, verified: VerifiedPack): InstalledPack {
  const pkg = readJsonFile(path.join(dir, 'package.json')) as PackageJson;
  if (verified.manifest.kind === 'integration') {
    // Integration packs hold endpoints and credentials of remote products; only the hub loads them.
    throw new AgentError('SONDE_ERR_PACK_INVALID', `${verified.pack} is an integration pack: it runs on the hub, not on an agent.`);
  }
  return {
    name: verified.pack,
    packageName: verified.packageName,
    version: verified.version,
    dir,
    entry: entryOf(dir, pkg),
    manifest: verified.manifest,
    permissionsSha256: permissionsDigest(verified.manifest.permissions),
    integrity: verified.integrity,
    keyId: verified.keyId,
    publishedAt: verified.publishedAt,
    // Verification refused symlinks and anything unsigned, so these are every file treeDigest would read.
    verifiedTreeSha256: treeDigestOf(verified.fileDigests.filter((file) => !isPackDependency(file.path))),
  };
}

type Checked = { ok: true; pack: InstalledPack } | { ok: false; code: string; reason: string };

/** Verifies one installed version (signature, every file, key, revocations, policy) and reads it. */
export async function checkVersion(dir: string, trust: Trust): Promise<Checked> {
  let verified: VerifiedPack | VerifyFailure;
  try {
    verified = await verifyInstalled(dir, trust);
  } catch (error) {
    return { ok: false, code: 'SONDE_ERR_PACK_MALFORMED', reason: (error as Error).message };
  }
  if (!verified.ok) return { ok: false, code: verified.code, reason: verified.reason };
  try {
    return { ok: true, pack: installedFrom(dir, verified) };
  } catch (error) {
    return { ok: false, code: error instanceof AgentError ? error.code : 'SONDE_ERR_PACK_INVALID', reason: (error as Error).message };
  }
}

export function readApprovals(paths: HomePaths): Approvals {
  if (!existsSync(paths.approvals)) return { packs: {} };
  try {
    const parsed = ApprovalsSchema.safeParse(readJsonFile(paths.approvals));
    // A corrupt approvals file approves nothing: every pack falls back to pending.
    return parsed.success ? parsed.data : { packs: {} };
  } catch {
    return { packs: {} };
  }
}

export function writeApprovals(paths: HomePaths, approvals: Approvals): void {
  writePrivateFile(paths.approvals, `${JSON.stringify(approvals, null, 2)}\n`);
}

export function rejectionsFile(paths: HomePaths): string {
  return path.join(paths.home, 'rejections.json');
}

export function readRejections(paths: HomePaths): Rejections {
  const file = rejectionsFile(paths);
  if (!existsSync(file)) return { packs: {} };
  try {
    const parsed = RejectionsSchema.safeParse(readJsonFile(file));
    // A corrupt file rejects nothing: the candidates wait for approval again, which loads nothing either.
    return parsed.success ? parsed.data : { packs: {} };
  } catch {
    return { packs: {} };
  }
}

export function writeRejections(paths: HomePaths, rejections: Rejections): void {
  writePrivateFile(rejectionsFile(paths), `${JSON.stringify(rejections, null, 2)}\n`);
}

/** Whether `pack` is exactly the version and permissions digest `rejection` names. */
export function isRejected(pack: { version: string; permissionsSha256: string }, rejection: Rejection | undefined): boolean {
  return rejection !== undefined && rejection.version === pack.version && rejection.permissionsSha256 === pack.permissionsSha256;
}

/** Takes a rejected candidate out of a resolution: not pending, not approvable from the hub, never loaded. */
function applyRejection(resolution: PackResolution, rejection: Rejection | undefined): PackResolution {
  const candidate = resolution.candidate;
  if (!candidate || candidate === resolution.serving || !isRejected(candidate, rejection)) return resolution;
  const listing: PackListing = { ...resolution.listing, rejected: rejection };
  delete listing.pending;
  if (listing.state === 'pending') {
    listing.state = 'rejected';
    listing.code = PACK_REJECTED_CODE;
    listing.reason = `${candidate.version} rejected by ${rejection!.by} at ${rejection!.rejectedAt}: not loaded until another version is installed`;
  } else {
    listing.reason = `${candidate.version} rejected by ${rejection!.by} at ${rejection!.rejectedAt}; ${listing.version} keeps serving`;
  }
  const { candidate: _dropped, ...rest } = resolution;
  return { ...rest, listing, rejectedCandidate: candidate };
}

export function approvalFor(pack: InstalledPack, by = 'cli'): Approval {
  return {
    packageName: pack.packageName,
    version: pack.version,
    permissionsSha256: pack.permissionsSha256,
    integrity: pack.integrity,
    approvedAt: new Date().toISOString(),
    by,
  };
}

export function permissionChanges(
  from: PackManifest | undefined,
  to: PackManifest,
): { added: string[]; removed: string[]; widened: boolean } {
  if (!from) return { added: [], removed: [], widened: true };
  const diff = diffPermissions(from.permissions, to.permissions);
  return {
    added: diff.added.map((change) => change.description),
    removed: diff.removed.map((change) => change.description),
    widened: diff.widened,
  };
}

/**
 * The state of every installed pack. Each version read here is verified
 * again (at every load, not only at install): a file changed on disk, a key
 * or version revoked since, or a policy that no longer admits it turns the
 * pack `failed` with the registry's code, and a failed approved version is
 * never replaced by another version behind the operator's back.
 */
export async function resolvePacks(paths: HomePaths, packsDir: string, trust: Trust): Promise<PackResolution[]> {
  const approvals = readApprovals(paths);
  const rejections = readRejections(paths);
  // Packages are verified side by side: verification is bound by file reads, not by one core.
  const resolveOne = async (stored: StoredPackage): Promise<PackResolution> => {
    const newest = stored.versions[0];
    const name = claimedPackName(newest.dir, stored.packageName);
    const versions = stored.versions.map((entry) => entry.version);
    const base = { name, packageName: stored.packageName, versions };
    const approval = approvals.packs[name];
    const approved = approval ? stored.versions.find((entry) => entry.version === approval.version) : undefined;

    if (!approval || !approved) {
      const checked = await checkVersion(newest.dir, trust);
      if (!checked.ok) {
        return {
          listing: { ...base, version: newest.version, dir: newest.dir, state: 'failed', code: checked.code, reason: checked.reason },
        };
      }
      const pack = checked.pack;
      return {
        listing: {
          ...base,
          name: pack.name,
          version: pack.version,
          dir: pack.dir,
          state: 'pending',
          reason: `not approved yet: review its permissions and run sonde packs approve ${pack.name}`,
          permissionsSha256: pack.permissionsSha256,
          integrity: pack.integrity,
        },
        candidate: pack,
      };
    }

    const checked = await checkVersion(approved.dir, trust);
    let resolution: PackResolution;
    if (!checked.ok) {
      resolution = {
        listing: {
          ...base,
          version: approved.version,
          dir: approved.dir,
          state: 'failed',
          code: checked.code,
          reason: checked.reason,
          approvedVersion: approval.version,
        },
      };
    } else if (checked.pack.permissionsSha256 !== approval.permissionsSha256) {
      resolution = {
        listing: {
          ...base,
          version: approved.version,
          dir: approved.dir,
          state: 'pending',
          reason: `its signed permissions differ from those approved: review and run sonde packs approve ${name}`,
          permissionsSha256: checked.pack.permissionsSha256,
          integrity: checked.pack.integrity,
          approvedVersion: approval.version,
        },
        candidate: checked.pack,
      };
    } else {
      resolution = {
        listing: {
          ...base,
          version: approved.version,
          dir: approved.dir,
          state: 'active',
          permissionsSha256: checked.pack.permissionsSha256,
          integrity: checked.pack.integrity,
          approvedVersion: approval.version,
        },
        serving: checked.pack,
      };
    }

    const newer = stored.versions.find((entry) => semver.gt(entry.version, approval.version));
    if (newer) {
      const next = await checkVersion(newer.dir, trust);
      if (next.ok) {
        const diff = permissionChanges(checked.ok ? checked.pack.manifest : undefined, next.pack.manifest);
        resolution.listing.pending = { version: newer.version, dir: newer.dir, added: diff.added, removed: diff.removed };
        resolution.candidate = next.pack;
      } else {
        resolution.listing.pending = {
          version: newer.version,
          dir: newer.dir,
          added: [],
          removed: [],
          refused: { code: next.code, reason: next.reason },
        };
      }
    }
    return resolution;
  };
  return Promise.all(
    storedPackages(packsDir).map(async (stored) => {
      const resolution = await resolveOne(stored);
      return applyRejection(resolution, rejections.packs[resolution.listing.name]);
    }),
  );
}

export async function listPacks(paths: HomePaths, packsDir: string, trust: Trust): Promise<PackListing[]> {
  return (await resolvePacks(paths, packsDir, trust)).map((resolution) => resolution.listing);
}

export async function findResolution(paths: HomePaths, packsDir: string, trust: Trust, nameOrPackage: string): Promise<PackResolution> {
  for (const resolution of await resolvePacks(paths, packsDir, trust)) {
    if (resolution.listing.name === nameOrPackage || resolution.listing.packageName === nameOrPackage) return resolution;
  }
  throw new AgentError('SONDE_ERR_PACK_NOT_FOUND', `"${nameOrPackage}" is not installed in ${packsDir}.`);
}
