import { createHash } from 'node:crypto';
import type { PackManifest } from '@sonde/pack-sdk';
import type { PackStatus } from '@sonde/pack-sdk/protocol';

/**
 * One parsed copy of each distinct pack manifest, shared by every agent that
 * runs it: 10,000 agents on the same system pack would otherwise hold 10,000
 * parsed copies of a 20-40 KB manifest (most of the hub's memory per agent).
 * Keyed by the SHA-256 of the manifest's JSON, so only identical manifests are
 * shared. Records and registered sessions never modify manifests.
 */
const manifests = new Map<string, PackManifest>();
const MAX_SHARED_MANIFESTS = 10_000;

/** Points each pack's manifest at the shared copy (in place) and returns the packs' JSON. */
export function sharePackManifests(packs: PackStatus[]): string {
  for (const pack of packs) {
    if (!pack.manifest) continue;
    const key = createHash('sha256').update(JSON.stringify(pack.manifest)).digest('base64');
    const shared = manifests.get(key);
    if (shared) pack.manifest = shared;
    else {
      if (manifests.size >= MAX_SHARED_MANIFESTS) manifests.clear();
      manifests.set(key, pack.manifest);
    }
  }
  return JSON.stringify(packs);
}
