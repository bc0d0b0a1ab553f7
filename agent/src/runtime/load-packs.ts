import { pathToFileURL } from 'node:url';
import type { Pack } from '@sonde/pack-sdk';
import type { PackStatus } from '@sonde/pack-sdk/protocol';
import type { Logger } from 'pino';
import type { PackRunnerPool, SandboxRunner } from '@sonde/pack-sdk/sandbox';
import type { HomePaths } from '../home.js';
import { AgentError } from '../errors.js';
import { permissionsDigest } from '../packs/digest.js';
import { readApprovals, resolvePacks, type InstalledPack, type PackResolution } from '../packs/store.js';
import { loadAgentTrust } from '../packs/trust.js';

export interface LoadedPack {
  installed: InstalledPack;
  /** In sandbox mode a manifest-only stand-in: the code lives in the pack's own process. */
  pack: Pack;
  /** Set when the pack runs in its own sandboxed process. */
  runner?: SandboxRunner;
}

export interface PackLoadOutcome {
  active: Map<string, LoadedPack>;
  statuses: PackStatus[];
  /**
   * With `deferStart`: starts every pack process and resolves with the outcome once all have started (a pack
   * whose code asks for other permissions than approved, or that fails to start, is then pending or failed).
   */
  startAll?: () => Promise<PackLoadOutcome>;
}

export interface LoadOptions {
  /**
   * Report verified, approved packs as active before their processes are up, so the agent can register at
   * once; a probe that arrives early waits for its pack's start, and the start still refuses code whose
   * permissions differ from the approval before anything runs.
   */
  deferStart?: boolean;
}

const CODE_DIFFERS = 'the code declares other permissions than sonde-pack.json; re-approve after review';

/** What the hub shows beside a pack's state: the refusal code, the content identity, a version awaiting approval. */
function packFacts({ listing, serving, candidate }: PackResolution): Pick<PackStatus, 'code' | 'integrity' | 'pending' | 'reason'> {
  const waiting = candidate && candidate !== serving ? candidate : undefined;
  return {
    // A serving pack whose update an admin rejected says so (which version, by whom) beside its active state.
    ...(listing.rejected && listing.state === 'active' && listing.reason ? { reason: listing.reason.slice(0, 500) } : {}),
    ...(listing.code ? { code: listing.code.slice(0, 64) } : {}),
    ...(listing.integrity ? { integrity: listing.integrity } : {}),
    ...(waiting
      ? {
          pending: {
            version: waiting.version,
            permissionsSha256: waiting.permissionsSha256,
            added: (listing.pending?.version === waiting.version ? listing.pending.added : []).slice(0, 200),
            ...(serving ? {} : { permissions: waiting.manifest.permissions }),
          },
        }
      : {}),
  };
}

function isPack(value: unknown): value is Pack {
  const candidate = value as Partial<Pack> | undefined;
  return Boolean(candidate && typeof candidate === 'object' && candidate.manifest && candidate.probes instanceof Map);
}

/**
 * Imports only approved packs, at run time, from the packs directory. The
 * manifest the code builds must carry exactly the approved permissions, or
 * the pack stays pending: sonde-pack.json cannot lie about what the code asks.
 */
export async function loadPacks(
  paths: HomePaths,
  packsDir: string,
  log: Logger,
  pool?: PackRunnerPool,
  options: LoadOptions = {},
): Promise<PackLoadOutcome> {
  const approvals = readApprovals(paths);
  let resolutions: PackResolution[];
  try {
    // Trust and revocations are read again at every load: a key revoked since the last load takes effect now.
    resolutions = await resolvePacks(paths, packsDir, loadAgentTrust(paths));
  } catch (error) {
    const reason = error instanceof AgentError ? error.message : `cannot read the packs: ${(error as Error).message}`;
    log.error({ err: reason }, 'no pack loads: the trust material is invalid');
    await pool?.retain(new Set());
    return { active: new Map(), statuses: [{ name: 'trust', version: '0.0.0', state: 'failed', reason: reason.slice(0, 500) }] };
  }
  // Pack processes start side by side (each pays its own Node start-up).
  const collect = (outcomes: LoadOutcome[]): PackLoadOutcome => {
    const active = new Map<string, LoadedPack>();
    const statuses: PackStatus[] = [];
    for (const outcome of outcomes) {
      statuses.push(outcome.status);
      if (outcome.loaded) active.set(outcome.status.name, outcome.loaded);
    }
    return { active, statuses };
  };
  if (pool && options.deferStart) {
    const early = await Promise.all(resolutions.map((resolution) => loadOne(resolution, approvals, log, pool, true)));
    await pool.retain(new Set(early.filter((outcome) => outcome.loaded).map((outcome) => outcome.status.name)));
    const startAll = (): Promise<PackLoadOutcome> =>
      Promise.all(early.map((outcome) => settle(outcome, log, pool.isolation))).then(collect);
    return { ...collect(early), startAll };
  }
  const loaded = collect(await Promise.all(resolutions.map((resolution) => loadOne(resolution, approvals, log, pool))));
  await pool?.retain(new Set(loaded.active.keys()));
  return loaded;
}

interface LoadOutcome {
  status: PackStatus;
  loaded?: LoadedPack;
}

async function loadOne(
  resolution: PackResolution,
  approvals: ReturnType<typeof readApprovals>,
  log: Logger,
  pool: PackRunnerPool | undefined,
  deferStart = false,
): Promise<LoadOutcome> {
  const { listing, serving } = resolution;
  const facts = packFacts(resolution);
  if (listing.state !== 'active' || !serving) {
    if (listing.state === 'failed')
      log.error({ pack: listing.name, code: listing.code }, `pack ${listing.name} refused: ${listing.reason ?? ''}`);
    else if (listing.state === 'rejected') log.warn({ pack: listing.name }, `pack ${listing.name}: ${listing.reason ?? 'rejected'}`);
    else log.warn({ pack: listing.name }, `pack ${listing.name} is pending: ${listing.reason ?? ''}`);
    // A rejected first install is reported `disabled` with its code: a state every hub version reads.
    const state = listing.state === 'rejected' ? 'disabled' : listing.state;
    return {
      status: { name: listing.name, version: listing.version, state, reason: listing.reason?.slice(0, 500), ...facts },
    };
  }
  const found = serving;
  if (listing.pending)
    log.warn(
      { pack: found.name, pending: listing.pending.version },
      `pack ${found.name} ${listing.pending.version} awaits approval; ${found.version} keeps serving`,
    );
  const failed = (reason: string): LoadOutcome => failedOutcome(found, reason, log);
  const heldPending = (): LoadOutcome => heldPendingOutcome(found, log);
  if (pool) {
    // Never imported here: the pack's process loads it and the runner compares its permissions with the approval.
    let runner: SandboxRunner;
    try {
      runner = await pool.activate(found, { approvedAt: approvals.packs[found.name]?.approvedAt, deferStart: true });
    } catch (error) {
      return failed(`sandbox start failed: ${(error as Error).message}`);
    }
    if (runner.state.status === 'quarantined')
      return failed(`quarantined: ${runner.state.reason ?? 'limits'}; re-approve to release (sonde packs approve ${found.name})`);
    const outcome: LoadOutcome = {
      status: { name: found.name, version: found.version, state: 'active', manifest: found.manifest, ...facts },
      loaded: { installed: found, pack: { manifest: found.manifest, probes: new Map(), runbooks: [] }, runner },
    };
    return deferStart ? outcome : settle(outcome, log, pool.isolation);
  }
  try {
    const module = (await import(pathToFileURL(found.entry).href)) as { default?: unknown };
    const pack = module.default;
    if (!isPack(pack)) throw new Error('its entry does not default-export definePack(...)');
    if (pack.manifest.name !== found.name) throw new Error(`its code calls itself ${pack.manifest.name}`);
    if (permissionsDigest(pack.manifest.permissions) !== found.permissionsSha256) return heldPending();
    log.info({ pack: found.name, version: found.version }, `pack ${found.name} ${found.version} loaded`);
    return {
      // The version is the installed package's: the code need not name one (definePack's is deprecated).
      status: {
        name: found.name,
        version: found.version,
        state: 'active',
        manifest: { ...pack.manifest, version: found.version },
        ...facts,
      },
      loaded: { installed: found, pack },
    };
  } catch (error) {
    return failed(`load failed: ${(error as Error).message}`);
  }
}

/**
 * Waits for a pack's process to be loaded. A process that ran before and was
 * stopped for being idle stays stopped: its next probe starts it.
 */
async function settle(outcome: LoadOutcome, log: Logger, isolation: string): Promise<LoadOutcome> {
  const runner = outcome.loaded?.runner;
  const found = outcome.loaded?.installed;
  if (!runner || !found) return outcome;
  if (runner.state.status === 'idle' && runner.state.startupMs !== undefined) return outcome;
  try {
    await runner.start();
    log.info({ pack: found.name, version: found.version, isolation }, `pack ${found.name} ${found.version} started sandboxed`);
    return outcome;
  } catch (error) {
    if ((error as { details?: { permissionsMismatch?: boolean } }).details?.permissionsMismatch) return heldPendingOutcome(found, log);
    return failedOutcome(found, `sandbox start failed: ${(error as Error).message}`, log);
  }
}

function failedOutcome(found: InstalledPack, reason: string, log: Logger): LoadOutcome {
  log.error({ pack: found.name }, `pack ${found.name}: ${reason}`);
  return { status: { name: found.name, version: found.version, state: 'failed', reason: reason.slice(0, 500) } };
}

/** The code asks for other permissions than the signed, approved manifest: it never runs. */
function heldPendingOutcome(found: InstalledPack, log: Logger): LoadOutcome {
  log.warn({ pack: found.name }, `pack ${found.name} held pending: code permissions differ from the approved manifest`);
  return { status: { name: found.name, version: found.version, state: 'pending', reason: CODE_DIFFERS } };
}
