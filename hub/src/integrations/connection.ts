import type { PackManifest } from '@sonde/pack-sdk';

/**
 * "Test Connection". Integration manifests have no connection-check field
 * (pack-sdk does not define one), so the hub runs the pack's cheapest read:
 * the first probe named in CONNECTION_PROBES (health, version, buildinfo,
 * sites.list), else the first step of the pack's first runbook, else the
 * first probe; in every case only a probe whose params need no value.
 */
export const CONNECTION_PROBES = ['health', 'version', 'buildinfo', 'sites.list'] as const;

function runsWithoutParams(probe: PackManifest['probes'][number]): boolean {
  const required = (probe.params as { required?: unknown }).required;
  return probe.capability === 'observe' && (!Array.isArray(required) || required.length === 0);
}

export function pickConnectionProbe(manifest: PackManifest): string | null {
  const usable = manifest.probes.filter(runsWithoutParams);
  for (const name of CONNECTION_PROBES) if (usable.some((p) => p.name === name)) return name;
  const firstStep = manifest.runbooks[0]?.steps[0]?.probe;
  const local = firstStep?.startsWith(`${manifest.name}.`) ? firstStep.slice(manifest.name.length + 1) : firstStep;
  if (local && usable.some((p) => p.name === local)) return local;
  return usable[0]?.name ?? null;
}

/**
 * A probe that answered may still say the product is down (http.health
 * reports `reachable: false` or `ok: false` as data): that is an Error too.
 * Returns the reason, or null when connected.
 */
export function judgeConnection(result: unknown): string | null {
  if (!result || typeof result !== 'object' || Array.isArray(result)) return null;
  const r = result as { reachable?: unknown; ok?: unknown; status?: unknown; error?: unknown };
  if (r.reachable === false) return `unreachable: ${typeof r.error === 'string' ? r.error : 'no answer'}`;
  if (r.ok === false)
    return `answered with status ${typeof r.status === 'number' ? r.status : '?'}${typeof r.error === 'string' ? `: ${r.error}` : ''}`;
  return null;
}
