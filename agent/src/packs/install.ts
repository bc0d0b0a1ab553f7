import { existsSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  decideUpgrade,
  fetchPackTarball,
  hostPeerProblem,
  isDowngrade,
  installVerifiedPack,
  parseJsonFile,
  readPackTarball,
  resolveUpdate,
  verifyPack,
  type Trust,
  type VerifiedPack,
} from '@sonde/registry';
import type Semver from 'semver';
import { z } from 'zod';
import { requireCjs } from '../cjs.js';
import { AgentError } from '../errors.js';
import { readJsonFile, writePrivateFile, type HomePaths } from '../home.js';
import { indexRefusal, readPackIndex } from './pack-index.js';
import {
  approvalFor,
  checkVersion,
  preparePacksDir,
  readApprovals,
  storeDirOf,
  storedPackages,
  writeApprovals,
  type InstalledPack,
} from './store.js';

const semver = requireCjs('semver') as typeof Semver;

/**
 * Installing is: fetch (a signed local folder, a .tgz, or an npm spec through
 * `npm pack --ignore-scripts`), verify in memory, write the verified files to
 * the versioned store, then decide the state:
 * - first install: pending until `sonde packs approve`;
 * - a newer version of an approved pack with the same or fewer permissions:
 *   approved at once (the approval follows the version);
 * - a newer version that asks for more: pending, while the approved version
 *   keeps serving;
 * - an older version than the approved one: refused unless --allow-downgrade.
 */

export type InstallSource = { kind: 'directory'; dir: string } | { kind: 'npm'; spec: string };

export function classifySource(input: string, cwd = process.cwd()): InstallSource {
  const candidate = path.resolve(cwd, input);
  if ((input.startsWith('.') || input.startsWith('/')) && existsSync(candidate)) {
    if (statSync(candidate).isDirectory()) return { kind: 'directory', dir: candidate };
    // A packed tarball (npm pack) is fetched like a registry package.
    if (/\.(tgz|tar\.gz)$/.test(candidate)) return { kind: 'npm', spec: candidate };
  }
  if (!/^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*(@[A-Za-z0-9.^~<>=|* -]+)?$/.test(input)) {
    throw new AgentError('SONDE_ERR_PACK_INVALID', `"${input}" is neither a directory nor an npm package name.`);
  }
  return { kind: 'npm', spec: input };
}

/** Where each package came from, so `update` knows what to ask npm for. */
const SourcesSchema = z.record(
  z.string(),
  z
    .object({
      kind: z.enum(['directory', 'npm']),
      spec: z.string(),
      /** The npm registry given at install (`--registry`): updates ask it again unless told otherwise. */
      registry: z.string().optional(),
    })
    .strict(),
);
type Sources = z.infer<typeof SourcesSchema>;

function sourcesFile(packsDir: string): string {
  return path.join(packsDir, 'sources.json');
}

export function readSources(packsDir: string): Sources {
  const file = sourcesFile(packsDir);
  if (!existsSync(file)) return {};
  const parsed = SourcesSchema.safeParse(readJsonFile(file));
  return parsed.success ? parsed.data : {};
}

function writeSources(packsDir: string, sources: Sources): void {
  writePrivateFile(sourcesFile(packsDir), `${JSON.stringify(sources, null, 2)}\n`);
}

export type InstallOutcome = 'pending' | 'activated' | 'unchanged';

export interface InstallResult {
  pack: InstalledPack;
  outcome: InstallOutcome;
  /** The version serving before (when the pack was already approved). */
  from?: string;
  added: string[];
  reason: string;
}

export interface InstallOptions {
  allowDowngrade?: boolean;
  registry?: string;
  /** Recorded on an automatic approval. */
  by?: string;
  /** Told before each long step (fetching, verifying, writing), for a progress bar. */
  onPhase?: (phase: 'fetching' | 'verifying' | 'writing') => void;
}

function refused(result: { code: string; reason: string; file?: string }, what: string): AgentError {
  return new AgentError('SONDE_ERR_PACK_REFUSED', `${what}: ${result.reason}`, {
    verifyCode: result.code,
    ...(result.file ? { file: result.file } : {}),
  });
}

/** Fetches and verifies; nothing is written to the store here. */
async function fetchVerified(
  source: InstallSource,
  trust: Trust,
  options: InstallOptions,
): Promise<{ verified: VerifiedPack; from: { tarball: string } | { dir: string }; cleanup: () => Promise<void> }> {
  if (source.kind === 'directory') {
    options.onPhase?.('verifying');
    const verified = await verifyPack(source.dir, trust);
    if (!verified.ok) throw refused(verified, source.dir);
    return { verified, from: { dir: source.dir }, cleanup: async () => {} };
  }
  let fetched;
  options.onPhase?.('fetching');
  try {
    fetched = await fetchPackTarball(source.spec, { registry: options.registry });
  } catch (error) {
    throw new AgentError('SONDE_ERR_PACK_INSTALL_FAILED', (error as Error).message);
  }
  options.onPhase?.('verifying');
  const verified = await verifyPack(fetched.tarball, trust);
  if (!verified.ok) {
    await fetched.cleanup();
    throw refused(verified, source.spec);
  }
  return { verified, from: { tarball: fetched.tarball }, cleanup: fetched.cleanup };
}

/** The signed package.json of what is about to be installed (verification already checked its digest). */
async function readPackageJson(from: { tarball: string } | { dir: string }): Promise<unknown> {
  if ('dir' in from) return readJsonFile(path.join(from.dir, 'package.json'));
  return parseJsonFile(await readPackTarball(from.tarball), 'package.json');
}

export async function installPack(
  paths: HomePaths,
  packsDir: string,
  source: InstallSource,
  trust: Trust,
  options: InstallOptions = {},
): Promise<InstallResult> {
  preparePacksDir(packsDir);
  const { verified, from, cleanup } = await fetchVerified(source, trust, options);
  try {
    const approvals = readApprovals(paths);
    const approval = approvals.packs[verified.pack];
    if (approval && isDowngrade(approval.version, verified.version) && !options.allowDowngrade) {
      throw new AgentError(
        'SONDE_ERR_PACK_DOWNGRADE',
        `${verified.packageName}@${verified.version} is older than the approved ${approval.version}.`,
        { installed: approval.version, requested: verified.version },
      );
    }
    const notListed = indexRefusal(readPackIndex(paths), verified.packageName, verified.version, verified.integrity);
    if (notListed) throw refused({ code: 'SONDE_ERR_INDEX_NOT_FOUND', reason: notListed }, verified.packageName);
    if (verified.manifest.kind === 'integration')
      throw new AgentError('SONDE_ERR_PACK_INVALID', `${verified.pack} is an integration pack: it runs on the hub, not on an agent.`);
    const peers = hostPeerProblem(await readPackageJson(from));
    if (peers) throw new AgentError('SONDE_ERR_PACK_INVALID', `${verified.packageName}@${verified.version}: ${peers}`);
    options.onPhase?.('writing');
    const installed = await installVerifiedPack(storeDirOf(packsDir), from, trust);
    if (!installed.ok) throw refused(installed, verified.packageName);
    const checked = await checkVersion(installed.dir, trust);
    if (!checked.ok) {
      rmSync(installed.dir, { recursive: true, force: true });
      throw refused(checked, verified.packageName);
    }
    const pack = checked.pack;
    const sources = readSources(packsDir);
    sources[pack.packageName] =
      // A tarball path says nothing about where updates come from: updates ask npm for the package name.
      source.kind === 'directory'
        ? { kind: 'directory', spec: source.dir }
        : { kind: 'npm', spec: pack.packageName, ...(options.registry ? { registry: options.registry } : {}) };
    writeSources(packsDir, sources);
    return decide(paths, packsDir, pack, trust, options);
  } finally {
    await cleanup();
  }
}

/** Applies the approval rules to a freshly installed version. */
async function decide(
  paths: HomePaths,
  packsDir: string,
  pack: InstalledPack,
  trust: Trust,
  options: InstallOptions,
): Promise<InstallResult> {
  const approvals = readApprovals(paths);
  const approval = approvals.packs[pack.name];
  if (!approval) {
    return { pack, outcome: 'pending', added: [], reason: `pending: review its permissions and run sonde packs approve ${pack.name}` };
  }
  if (approval.version === pack.version && approval.permissionsSha256 === pack.permissionsSha256) {
    return { pack, outcome: 'unchanged', from: approval.version, added: [], reason: `${pack.version} is the approved version` };
  }
  const current = storedPackages(packsDir)
    .find((stored) => stored.packageName === pack.packageName)
    ?.versions.find((entry) => entry.version === approval.version);
  const approvedCopy = current ? await checkVersion(current.dir, trust) : undefined;
  // The hub's rule too (@sonde/registry): the same or fewer permissions activate, more wait (installPack has already
  // refused a downgrade that was not asked for). An approved copy that no longer verifies cannot be compared: pending.
  const decision = approvedCopy?.ok
    ? decideUpgrade(
        { version: approval.version, permissions: approvedCopy.pack.manifest.permissions },
        { version: pack.version, permissions: pack.manifest.permissions },
        { allowDowngrade: options.allowDowngrade },
      )
    : undefined;
  if (decision?.outcome === 'active') {
    approvals.packs[pack.name] = approvalFor(pack, options.by ?? 'auto:same-or-fewer-permissions');
    writeApprovals(paths, approvals);
    pruneVersions(packsDir, pack.packageName, [pack.version]);
    return {
      pack,
      outcome: 'activated',
      from: approval.version,
      added: [],
      reason: `activated: ${pack.version} asks for no permission that ${approval.version} did not have`,
    };
  }
  const added = decision ? decision.diff.added.map((change) => change.description) : [];
  return {
    pack,
    outcome: 'pending',
    from: approval.version,
    added,
    reason: `pending: ${pack.version} asks for more permissions; ${approval.version} keeps serving until you run sonde packs approve ${pack.name}`,
  };
}

/** Removes versions of a package other than `keep` (and other than anything newer still pending). */
export function pruneVersions(packsDir: string, packageName: string, keep: readonly string[]): void {
  const stored = storedPackages(packsDir).find((entry) => entry.packageName === packageName);
  if (!stored) return;
  const newestKept = keep.reduce<string | undefined>(
    (newest, version) => (!newest || semver.gt(version, newest) ? version : newest),
    undefined,
  );
  for (const entry of stored.versions) {
    if (keep.includes(entry.version)) continue;
    if (newestKept && semver.gt(entry.version, newestKept)) continue;
    rmSync(entry.dir, { recursive: true, force: true });
  }
}

export interface UpdateResult {
  name: string;
  packageName: string;
  from: string;
  to?: string;
  outcome: 'activated' | 'pending' | 'up-to-date' | 'refused' | 'skipped';
  added: string[];
  reason: string;
  code?: string;
}

/**
 * Updates from npm within the allowed range (default `^<approved version>`:
 * same major). The newest version npm resolves is fetched and verified; an
 * older one than the approved version is a downgrade and refused unless asked.
 */
export async function updatePack(
  paths: HomePaths,
  packsDir: string,
  trust: Trust,
  target: { name: string; packageName: string; version: string },
  options: InstallOptions & { range?: string } = {},
): Promise<UpdateResult> {
  const base = { name: target.name, packageName: target.packageName, from: target.version, added: [] as string[] };
  const source = readSources(packsDir)[target.packageName];
  if (source?.kind === 'directory')
    return { ...base, outcome: 'skipped', reason: `installed from ${source.spec}: install the new folder to update` };
  const range = options.range ?? `^${target.version}`;
  if (semver.validRange(range) === null) throw new AgentError('SONDE_ERR_USAGE', `--range ${range} is not a semver range.`);
  // With an organisation index, it alone says which version is next; npm only delivers that exact version.
  const index = readPackIndex(paths);
  let spec = `${target.packageName}@${range}`;
  if (index) {
    const resolved = resolveUpdate(index, target.packageName, target.version, range, { allowDowngrade: options.allowDowngrade });
    if (!resolved.ok) return { ...base, outcome: 'refused', reason: resolved.reason, code: resolved.code };
    if (resolved.action === 'none')
      return {
        ...base,
        to: target.version,
        outcome: 'up-to-date',
        reason: `${target.version} is the newest version the pack index allows in ${range}`,
      };
    spec = `${target.packageName}@${resolved.version}`;
  }
  try {
    // The registry named at install stays the pack's source; an explicit --registry here replaces it.
    const registry = options.registry ?? source?.registry;
    const result = await installPack(paths, packsDir, { kind: 'npm', spec }, trust, { ...options, ...(registry ? { registry } : {}) });
    if (result.outcome === 'unchanged' || result.pack.version === target.version)
      return { ...base, to: result.pack.version, outcome: 'up-to-date', reason: `${target.version} is the newest version in ${range}` };
    return {
      ...base,
      to: result.pack.version,
      outcome: result.outcome === 'activated' ? 'activated' : 'pending',
      added: result.added,
      reason: result.reason,
    };
  } catch (error) {
    if (error instanceof AgentError && (error.code === 'SONDE_ERR_PACK_REFUSED' || error.code === 'SONDE_ERR_PACK_DOWNGRADE'))
      return { ...base, outcome: 'refused', reason: error.message, code: (error.facts.verifyCode as string | undefined) ?? error.code };
    throw error;
  }
}

export function removePackFiles(packsDir: string, packageName: string): void {
  const stored = storedPackages(packsDir).find((entry) => entry.packageName === packageName);
  if (stored) rmSync(path.dirname(stored.versions[0].dir), { recursive: true, force: true });
  const sources = readSources(packsDir);
  delete sources[packageName];
  writeSources(packsDir, sources);
}
