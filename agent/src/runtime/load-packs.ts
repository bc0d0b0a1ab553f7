import { pathToFileURL } from 'node:url';
import type { Pack } from '@sonde/pack-sdk';
import type { PackStatus } from '@sonde/pack-sdk/protocol';
import type { Logger } from 'pino';
import type { HomePaths } from '../home.js';
import { permissionsDigest } from '../packs/digest.js';
import { discoverPacks, readApprovals, stateOf, type InstalledPack } from '../packs/store.js';

export interface LoadedPack {
  installed: InstalledPack;
  pack: Pack;
}

export interface PackLoadOutcome {
  active: Map<string, LoadedPack>;
  statuses: PackStatus[];
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
export async function loadPacks(paths: HomePaths, packsDir: string, log: Logger): Promise<PackLoadOutcome> {
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
          reason: 'the code declares other permissions than sonde-pack.json; re-approve after review',
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
  return { active, statuses };
}
