import { createHash } from 'node:crypto';

/**
 * Migration 5 (SQLite and PostgreSQL): the data step that moves the manifests out of an agents row's `packs` column
 * into `pack_manifests`, one row per distinct manifest keyed by the hex SHA-256 of its JSON text, leaving
 * `manifestSha256` in each pack's place. Part of a released migration: never change what it writes (manifests.ts
 * reads both forms).
 */
export function splitStoredPacks(json: string): { json: string; manifests: Array<{ key: string; text: string }> } | undefined {
  let packs: unknown;
  try {
    packs = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!Array.isArray(packs) || !packs.some((pack) => isObject(pack) && isObject(pack.manifest))) return undefined;
  const manifests = new Map<string, string>();
  const stored = packs.map((pack: unknown) => {
    if (!isObject(pack) || !isObject(pack.manifest)) return pack;
    const { manifest, ...rest } = pack;
    const text = JSON.stringify(manifest);
    const key = createHash('sha256').update(text).digest('hex');
    manifests.set(key, text);
    return { ...rest, manifestSha256: key };
  });
  return { json: JSON.stringify(stored), manifests: [...manifests].map(([key, text]) => ({ key, text })) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
