import type { Attestation, PackStatus } from '@sonde/pack-sdk/protocol';

/**
 * A pack serves through the hub only if an attestation covered it: its name
 * and version are in the attestation the agent registered with (or an admin
 * approved exactly that version through the hub on this connection). A pack an
 * agent reports active without attesting it is shown as pending and serves
 * nothing, and the agent is degraded. A pack set changed after registration
 * (`agent.packs`, e.g. a local `sonde packs approve`) is recorded as a change
 * (degraded reason, audit) and compared with the baseline at the next
 * connection, where like any attestation change it degrades the agent until an
 * admin accepts.
 */
export function servableOf(baseline: Attestation): Set<string> {
  return new Set(baseline.packs.map((pack) => packKey(pack.name, pack.version)));
}

export function packKey(name: string, version: string): string {
  return `${name}@${version}`;
}

export const HELD_PACKS_REASON = 'packs active outside the attestation comparison';
export const CHANGED_AFTER_REGISTRATION_REASON =
  'pack set changed after registration (compared with the attestation at the next connection)';

export const HELD_PACK_STATE_REASON = 'not in the attestation the agent registered with';

export function gatePacks(packs: readonly PackStatus[], servable: ReadonlySet<string>): { packs: PackStatus[]; held: string[] } {
  const held: string[] = [];
  const out = packs.map((pack): PackStatus => {
    if (pack.state !== 'active' || servable.has(packKey(pack.name, pack.version))) return pack;
    held.push(packKey(pack.name, pack.version));
    const { manifest: _manifest, ...rest } = pack;
    return {
      ...rest,
      state: 'pending',
      reason: `${HELD_PACK_STATE_REASON}: serves nothing`,
    };
  });
  return { packs: out, held };
}

/** One degraded reason per set of held packs (stable text, so the same set is not recorded twice). */
export function heldReason(held: readonly string[], prefix = HELD_PACKS_REASON): string {
  const text = `${prefix}: ${[...held].sort().join(', ')}`;
  return text.length > 500 ? `${text.slice(0, 499)}…` : text;
}
