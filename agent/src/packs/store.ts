import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PackManifestSchema, type PackManifest } from '@sonde/pack-sdk';
import { z } from 'zod';
import { AgentError } from '../errors.js';
import { readJsonFile, writePrivateFile, type HomePaths } from '../home.js';
import { permissionsDigest } from './digest.js';

/**
 * Packs live in the agent's packs directory, an npm prefix
 * (`<packsDir>/node_modules/<package>`). A pack is a package whose
 * package.json has a `sonde` member (or the `sonde-pack` keyword) and that
 * ships `sonde-pack.json`. Nothing here imports pack code: states come from
 * the manifest file and the operator's approvals.
 */

export const ApprovalSchema = z
  .object({ packageName: z.string(), version: z.string(), permissionsSha256: z.string(), approvedAt: z.string() })
  .strict();
export const ApprovalsSchema = z.object({ packs: z.record(z.string(), ApprovalSchema).default({}) }).strict();
export type Approval = z.infer<typeof ApprovalSchema>;
export type Approvals = z.infer<typeof ApprovalsSchema>;

export interface InstalledPack {
  name: string;
  packageName: string;
  version: string;
  dir: string;
  entry: string;
  manifest: PackManifest;
  permissionsSha256: string;
}

export interface PackListing {
  name: string;
  packageName: string;
  version: string;
  state: 'active' | 'pending' | 'failed';
  reason?: string;
  dir: string;
  permissionsSha256?: string;
}

/** Packages the agent lends to packs so a pack needs no copy of its own (declared as peers by packs). */
const HOST_PACKAGES = ['@sonde/pack-sdk', 'zod'];

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

/** Creates the npm prefix and links the host packages into it (idempotent). */
export function preparePacksDir(packsDir: string): void {
  mkdirSync(path.join(packsDir, 'node_modules'), { recursive: true, mode: 0o700 });
  const manifest = path.join(packsDir, 'package.json');
  if (!existsSync(manifest))
    writeFileSync(manifest, `${JSON.stringify({ name: 'sonde-packs', private: true, dependencies: {} }, null, 2)}\n`);
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
  keywords?: string[];
  sonde?: { manifest?: string; entry?: string };
  main?: string;
  exports?: unknown;
}

function packageDirs(packsDir: string): string[] {
  const modules = path.join(packsDir, 'node_modules');
  if (!existsSync(modules)) return [];
  const dirs: string[] = [];
  for (const entry of readdirSync(modules, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(modules, entry.name);
    if (entry.name.startsWith('@') && entry.isDirectory()) {
      for (const inner of readdirSync(full, { withFileTypes: true })) {
        if (inner.isDirectory()) dirs.push(path.join(full, inner.name));
      }
    } else if (entry.isDirectory()) {
      dirs.push(full);
    }
  }
  return dirs.sort();
}

function entryOf(dir: string, pkg: PackageJson): string {
  const declared = pkg.sonde?.entry ?? (typeof pkg.main === 'string' ? pkg.main : undefined) ?? './dist/index.js';
  const entry = path.resolve(dir, declared);
  if (!entry.startsWith(`${dir}${path.sep}`))
    throw new AgentError('SONDE_ERR_PACK_INVALID', `${dir}: entry ${declared} points outside the pack.`);
  return entry;
}

/** Reads one pack directory; throws SONDE_ERR_PACK_INVALID with the reason. */
export function readPackDir(dir: string): InstalledPack {
  const pkgFile = path.join(dir, 'package.json');
  if (!existsSync(pkgFile)) throw new AgentError('SONDE_ERR_PACK_INVALID', `${dir} has no package.json.`);
  const pkg = readJsonFile(pkgFile) as PackageJson;
  const manifestFile = path.resolve(dir, pkg.sonde?.manifest ?? 'sonde-pack.json');
  if (!existsSync(manifestFile)) throw new AgentError('SONDE_ERR_PACK_INVALID', `${dir} has no sonde-pack.json (build the pack first).`);
  const parsed = PackManifestSchema.safeParse(readJsonFile(manifestFile));
  if (!parsed.success) throw new AgentError('SONDE_ERR_PACK_INVALID', `${manifestFile}: ${z.prettifyError(parsed.error)}`);
  const manifest = parsed.data;
  if (manifest.kind === 'integration') {
    // Integration packs hold endpoints and credentials of remote products; only the hub loads them.
    throw new AgentError('SONDE_ERR_PACK_INVALID', `${manifest.name} is an integration pack: it runs on the hub, not on an agent.`);
  }
  return {
    name: manifest.name,
    packageName: pkg.name ?? manifest.name,
    version: manifest.version,
    dir,
    entry: entryOf(dir, pkg),
    manifest,
    permissionsSha256: permissionsDigest(manifest.permissions),
  };
}

function isPackPackage(dir: string): boolean {
  const pkgFile = path.join(dir, 'package.json');
  if (!existsSync(pkgFile)) return false;
  try {
    const pkg = readJsonFile(pkgFile) as PackageJson;
    return Boolean(pkg.sonde) || (pkg.keywords ?? []).includes('sonde-pack') || existsSync(path.join(dir, 'sonde-pack.json'));
  } catch {
    return false;
  }
}

export function discoverPacks(packsDir: string): Array<InstalledPack | { dir: string; error: AgentError }> {
  const found: Array<InstalledPack | { dir: string; error: AgentError }> = [];
  for (const dir of packageDirs(packsDir)) {
    if (lstatSync(dir).isSymbolicLink() || !isPackPackage(dir)) continue;
    try {
      found.push(readPackDir(dir));
    } catch (error) {
      found.push({ dir, error: error instanceof AgentError ? error : new AgentError('SONDE_ERR_PACK_INVALID', String(error)) });
    }
  }
  return found;
}

export function readApprovals(paths: HomePaths): Approvals {
  if (!existsSync(paths.approvals)) return { packs: {} };
  const parsed = ApprovalsSchema.safeParse(readJsonFile(paths.approvals));
  // A corrupt approvals file approves nothing: every pack falls back to pending.
  return parsed.success ? parsed.data : { packs: {} };
}

export function writeApprovals(paths: HomePaths, approvals: Approvals): void {
  writePrivateFile(paths.approvals, `${JSON.stringify(approvals, null, 2)}\n`);
}

/** Pending until an operator approved exactly these permissions. */
export function stateOf(pack: InstalledPack, approvals: Approvals): Pick<PackListing, 'state' | 'reason'> {
  const approval = approvals.packs[pack.name];
  if (!approval) return { state: 'pending', reason: `not approved yet: run sonde packs approve ${pack.name}` };
  if (approval.permissionsSha256 !== pack.permissionsSha256) {
    return {
      state: 'pending',
      reason: `permissions changed since approval of ${approval.version}: review and run sonde packs approve ${pack.name}`,
    };
  }
  return { state: 'active' };
}

export function listPacks(paths: HomePaths, packsDir: string): PackListing[] {
  const approvals = readApprovals(paths);
  return discoverPacks(packsDir).map((pack) => {
    if ('error' in pack) {
      return {
        name: path.basename(pack.dir),
        packageName: path.basename(pack.dir),
        version: '0.0.0',
        state: 'failed',
        reason: pack.error.message,
        dir: pack.dir,
      };
    }
    return {
      name: pack.name,
      packageName: pack.packageName,
      version: pack.version,
      dir: pack.dir,
      permissionsSha256: pack.permissionsSha256,
      ...stateOf(pack, approvals),
    };
  });
}

export function findInstalled(packsDir: string, nameOrPackage: string): InstalledPack {
  for (const pack of discoverPacks(packsDir)) {
    if ('error' in pack) continue;
    if (pack.name === nameOrPackage || pack.packageName === nameOrPackage) return pack;
  }
  throw new AgentError('SONDE_ERR_PACK_NOT_FOUND', `"${nameOrPackage}" is not installed in ${packsDir}.`);
}
