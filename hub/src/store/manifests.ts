import { createHash } from 'node:crypto';
import type { PackManifest } from '@sonde/pack-sdk';
import type { Attestation, PackStatus } from '@sonde/pack-sdk/protocol';

/**
 * One parsed copy of each distinct pack manifest, shared by every agent that
 * runs it: 10,000 agents on the same system pack would otherwise hold 10,000
 * parsed copies of a 20-40 KB manifest (most of the hub's memory per agent).
 * Keyed by the SHA-256 of the manifest's JSON, so only identical manifests are
 * shared. A shared copy is deeply frozen: what one agent reported cannot be
 * changed through another agent's record or session.
 *
 * Stored the same way (migration 5): the agents row keeps each pack's status
 * with `manifestSha256` in place of the manifest, and the manifest text is one
 * row of `pack_manifests` per distinct manifest. An agent row is then a few KB,
 * so a last-seen or state write no longer rewrites ~40 KB of manifests.
 */
const manifests = new Map<string, PackManifest>();
const MAX_SHARED_MANIFESTS = 10_000;

/** The key of a manifest: hex SHA-256 of its JSON text (as `JSON.stringify` writes it). */
export function manifestKey(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function share(key: string, manifest: PackManifest): PackManifest {
  const shared = manifests.get(key);
  if (shared) return shared;
  if (manifests.size >= MAX_SHARED_MANIFESTS) manifests.clear();
  manifests.set(key, deepFreeze(manifest));
  return manifest;
}

/** Freezes a parsed JSON value and everything in it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  for (const member of Object.values(value)) deepFreeze(member);
  return Object.freeze(value);
}

/**
 * Points each reported pack's manifest at the shared copy, in place, as soon as a report is decoded: the agent's own
 * parsed copy (the 40 KB system manifest parses to ~0.2 MB of objects) is then garbage while it is still young, instead
 * of living through the registration's store writes and ending up in the old generation. Keyed by content like
 * `storedPacks`, so a manifest is shared only with byte-identical ones.
 */
export function shareManifests(packs: PackStatus[]): void {
  for (const pack of packs) if (pack.manifest) pack.manifest = share(manifestKey(JSON.stringify(pack.manifest)), pack.manifest);
}

/**
 * Parsed attestations, one frozen copy per distinct JSON text (keyed by its SHA-256), shared by the records of every
 * agent that attests the same: a fleet of identical hosts would otherwise hold one ~1 KB parsed copy per agent.
 */
const attestations = new Map<string, Attestation>();

/** An attestation column as a record carries it (`null` for none): the shared frozen copy for its text. */
export function sharedAttestation(text: string | null, parse: (text: string) => unknown): Attestation | null {
  if (text === null) return null;
  const key = manifestKey(text);
  const known = attestations.get(key);
  if (known) return known;
  const parsed = parse(text) as Attestation | null;
  if (parsed === null || typeof parsed !== 'object') return null;
  if (attestations.size >= MAX_SHARED_MANIFESTS) attestations.clear();
  attestations.set(key, deepFreeze(parsed));
  return parsed;
}

/** A pack status as the agents row stores it: the manifest by reference. */
type StoredPack = Omit<PackStatus, 'manifest'> & { manifestSha256?: string; manifest?: PackManifest };

export interface StoredPacks {
  /** The agents row's `packs` column. */
  json: string;
  /** Manifests the row refers to, to be in `pack_manifests` (insert when missing; a key names one text). */
  manifests: Array<{ key: string; text: string }>;
}

/**
 * Points each pack's manifest at the shared copy (in place: the live session holds the same array) and returns what
 * to store: the row's JSON with references, and the manifest rows it needs.
 */
export function storedPacks(packs: PackStatus[]): StoredPacks {
  const rows = new Map<string, string>();
  const stored: StoredPack[] = packs.map((pack) => {
    if (!pack.manifest) return pack;
    const text = JSON.stringify(pack.manifest);
    const key = manifestKey(text);
    pack.manifest = share(key, pack.manifest);
    rows.set(key, text);
    const { manifest: _manifest, ...rest } = pack;
    return { ...rest, manifestSha256: key };
  });
  return { json: JSON.stringify(stored), manifests: [...rows].map(([key, text]) => ({ key, text })) };
}

/** The manifest references in a stored `packs` column that this process has no parsed copy of. */
export function missingManifests(json: string): string[] {
  if (!json.includes('"manifestSha256"')) return [];
  const keys = new Set<string>();
  for (const match of json.matchAll(/"manifestSha256":"([0-9a-f]{64})"/g)) if (!manifests.has(match[1])) keys.add(match[1]);
  return [...keys];
}

/** Adds manifests read from `pack_manifests` to the shared copies (the key is checked against the text). */
export function learnManifests(rows: Iterable<{ key: string; text: string }>): void {
  for (const { key, text } of rows) if (manifestKey(text) === key) share(key, JSON.parse(text) as PackManifest);
}

/**
 * A stored `packs` column as the records carry it: references resolved to the shared manifests (read the missing
 * ones with `missingManifests` and `learnManifests` first), manifests stored inline by earlier versions shared too.
 * A reference whose manifest cannot be found leaves the pack without a manifest (as a pack that reported none).
 */
export function packsFromStored(json: string, parse: (text: string) => unknown): PackStatus[] {
  const stored = parse(json) as StoredPack[];
  if (!Array.isArray(stored)) return [];
  return stored.map((pack) => {
    if (pack.manifestSha256 !== undefined) {
      const { manifestSha256: key, ...rest } = pack;
      const manifest = manifests.get(key);
      return manifest ? { ...rest, manifest } : rest;
    }
    if (pack.manifest) pack.manifest = share(manifestKey(JSON.stringify(pack.manifest)), pack.manifest);
    return pack;
  });
}

/** Tests: forget the parsed copies, as a new process starts without them. */
export function forgetSharedManifests(): void {
  manifests.clear();
  attestations.clear();
}
