import { pathToFileURL } from 'node:url';
import type { Pack } from '@sonde/pack-sdk';
import type { PackStatus } from '@sonde/pack-sdk/protocol';
import type { Logger } from 'pino';
import type { PackRunnerPool, SandboxRunner } from '@sonde/pack-sdk/sandbox';
import type { HomePaths } from '../home.js';
import { permissionsDigest } from '../packs/digest.js';
import { discoverPacks, readApprovals, stateOf, type InstalledPack } from '../packs/store.js';

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
}

const CODE_DIFFERS = 'the code declares other permissions than sonde-pack.json; re-approve after review';

function isPack(value: unknown): value is Pack {
  const candidate = value as Partial<Pack> | undefined;
  return Boolean(candidate && typeof candidate === 'object' && candidate.manifest && candidate.probes instanceof Map);
}

/**
 * Imports only approved packs, at run time, from the packs directory. The
 * manifest the code builds must carry exactly the approved permissions, or
 * the pack stays pending: sonde-pack.json cannot lie about what the code asks.
 */
export async function loadPacks(paths: HomePaths, packsDir: string, log: Logger, pool?: PackRunnerPool): Promise<PackLoadOutcome> {
  const approvals = readApprovals(paths);
  const active = new Map<string, LoadedPack>();
  const statuses: PackStatus[] = [];
  for (const found of discoverPacks(packsDir)) {
    if ('error' in found) {
      statuses.push({
        name: found.dir.split('/').pop() ?? 'unknown',
        version: '0.0.0',
        state: 'failed',
        reason: found.error.message.slice(0, 500),
      });
      continue;
    }
    const state = stateOf(found, approvals);
    if (state.state !== 'active') {
      statuses.push({ name: found.name, version: found.version, state: state.state, reason: state.reason?.slice(0, 500) });
      log.warn({ pack: found.name }, `pack ${found.name} is pending: ${state.reason ?? ''}`);
      continue;
    }
    if (pool) {
      // Never imported here: the pack's process loads it and the runner compares its permissions with the approval.
      try {
        const runner = await pool.activate(found, { approvedAt: approvals.packs[found.name]?.approvedAt });
        if (runner.state.status === 'quarantined') {
          const reason = `quarantined: ${runner.state.reason ?? 'limits'}; re-approve to release (sonde packs approve ${found.name})`;
          statuses.push({ name: found.name, version: found.version, state: 'failed', reason: reason.slice(0, 500) });
          continue;
        }
        active.set(found.name, { installed: found, pack: { manifest: found.manifest, probes: new Map(), runbooks: [] }, runner });
        statuses.push({ name: found.name, version: found.version, state: 'active', manifest: found.manifest });
        log.info(
          { pack: found.name, version: found.version, isolation: pool.isolation },
          `pack ${found.name} ${found.version} started sandboxed`,
        );
      } catch (error) {
        if ((error as { details?: { permissionsMismatch?: boolean } }).details?.permissionsMismatch) {
          statuses.push({ name: found.name, version: found.version, state: 'pending', reason: CODE_DIFFERS });
          log.warn({ pack: found.name }, `pack ${found.name} held pending: code permissions differ from the approved manifest`);
          continue;
        }
        const reason = `sandbox start failed: ${(error as Error).message}`.slice(0, 500);
        statuses.push({ name: found.name, version: found.version, state: 'failed', reason });
        log.error({ pack: found.name }, `pack ${found.name}: ${reason}`);
      }
      continue;
    }
    try {
      const module = (await import(pathToFileURL(found.entry).href)) as { default?: unknown };
      const pack = module.default;
      if (!isPack(pack)) throw new Error('its entry does not default-export definePack(...)');
      if (pack.manifest.name !== found.name) throw new Error(`its code calls itself ${pack.manifest.name}`);
      if (permissionsDigest(pack.manifest.permissions) !== found.permissionsSha256) {
        statuses.push({
          name: found.name,
          version: found.version,
          state: 'pending',
          reason: CODE_DIFFERS,
        });
        log.warn({ pack: found.name }, `pack ${found.name} held pending: code permissions differ from the approved manifest`);
        continue;
      }
      active.set(found.name, { installed: found, pack });
      statuses.push({ name: found.name, version: found.version, state: 'active', manifest: pack.manifest });
      log.info({ pack: found.name, version: found.version }, `pack ${found.name} ${found.version} loaded`);
    } catch (error) {
      const reason = `load failed: ${(error as Error).message}`.slice(0, 500);
      statuses.push({ name: found.name, version: found.version, state: 'failed', reason });
      log.error({ pack: found.name }, `pack ${found.name}: ${reason}`);
    }
  }
  await pool?.retain(new Set(active.keys()));
  return { active, statuses };
}
