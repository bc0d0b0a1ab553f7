import type { PackStatus } from '@sonde/pack-sdk/protocol';

/** Packs one agent may report; beyond this the report is refused (the wire schema bounds each entry, not the count). */
export const MAX_REPORTED_PACKS = 256;
export const MAX_PACK_FIELD_CHARS = 100;

/**
 * An agent's report is data, checked before anything is built from it: an
 * active pack describes tools only if its manifest is the pack it claims to be
 * (same name and version), so an agent cannot report pack `system` with the
 * manifest of something else, or a version it does not run.
 */
export function validPackReport(pack: PackStatus): boolean {
  if (pack.name.length > MAX_PACK_FIELD_CHARS || pack.version.length > MAX_PACK_FIELD_CHARS) return false;
  if (!pack.manifest) return false;
  return pack.manifest.name === pack.name && pack.manifest.version === pack.version;
}

/** Why a whole pack report is refused, or undefined. */
export function packReportProblem(packs: readonly PackStatus[]): string | undefined {
  if (packs.length > MAX_REPORTED_PACKS) return `${packs.length} packs reported; at most ${MAX_REPORTED_PACKS}`;
  const seen = new Set<string>();
  for (const pack of packs) {
    if (pack.name.length > MAX_PACK_FIELD_CHARS || pack.version.length > MAX_PACK_FIELD_CHARS)
      return `a pack name or version over ${MAX_PACK_FIELD_CHARS} characters`;
    if (seen.has(pack.name)) return `pack ${pack.name} reported twice`;
    seen.add(pack.name);
  }
  return undefined;
}
