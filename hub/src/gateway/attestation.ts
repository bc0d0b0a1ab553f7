import type { Attestation } from '@sonde/pack-sdk/protocol';
import { isNewerVersion } from '@sonde/registry';

export type AttestationVerdict =
  | { kind: 'first' }
  | { kind: 'unchanged' }
  /** A new agent version: the change is expected and becomes the baseline. */
  | { kind: 'upgraded'; from: string; to: string }
  /** Anything else moved without a version change: the agent is degraded until an admin accepts. */
  | { kind: 'changed'; changes: string[] };

/**
 * Compares a registration's attestation with the stored baseline. Each
 * difference is described in words an operator can act on ("kernel 6.1 → 6.2",
 * "pack system added"), short digests only, never the whole record.
 */
export function compareAttestation(baseline: Attestation | null, current: Attestation): AttestationVerdict {
  if (!baseline) return { kind: 'first' };
  const changes: string[] = [];
  if (baseline.agentVersion !== current.agentVersion) {
    // Only a newer version is the expected change that becomes the baseline. A downgrade (an old agent with known
    // flaws put back, or a version string chosen to reset the baseline) goes through the comparison like any change.
    if (isNewerVersion(current.agentVersion, baseline.agentVersion))
      return { kind: 'upgraded', from: baseline.agentVersion, to: current.agentVersion };
    changes.push(`agent version ${baseline.agentVersion} → ${current.agentVersion} (not newer)`);
  }
  const field = (label: string, before: string | undefined, after: string | undefined): void => {
    if (before !== after) changes.push(`${label} ${before ?? 'none'} → ${after ?? 'none'}`);
  };
  field('os platform', baseline.os.platform, current.os.platform);
  field('os release', baseline.os.release, current.os.release);
  field('os version', baseline.os.version, current.os.version);
  field('os distro', baseline.os.distro, current.os.distro);
  field('kernel', baseline.kernel, current.kernel);
  field('arch', baseline.arch, current.arch);
  field('node', baseline.nodeVersion, current.nodeVersion);
  field('agent code sha256', short(baseline.agentCodeSha256), short(current.agentCodeSha256));
  field('config sha256', short(baseline.configSha256), short(current.configSha256));
  const before = new Map(baseline.packs.map((pack) => [pack.name, pack]));
  const after = new Map(current.packs.map((pack) => [pack.name, pack]));
  for (const [name, pack] of after) {
    const old = before.get(name);
    if (!old) changes.push(`pack ${name}@${pack.version} added`);
    else if (old.version !== pack.version) changes.push(`pack ${name} ${old.version} → ${pack.version}`);
    else if (old.sha256 !== pack.sha256) changes.push(`pack ${name}@${pack.version} sha256 ${short(old.sha256)} → ${short(pack.sha256)}`);
  }
  for (const [name, pack] of before) if (!after.has(name)) changes.push(`pack ${name}@${pack.version} removed`);
  return changes.length === 0 ? { kind: 'unchanged' } : { kind: 'changed', changes };
}

function short(digest: string): string {
  return digest.slice(0, 12);
}

/** One line for the fleet view: `debian 12 (linux 6.1.0-13-amd64, x64)`. */
export function describeOs(attestation: Attestation | null): string | null {
  if (!attestation) return null;
  const { os, kernel, arch } = attestation;
  return `${os.distro ?? `${os.platform} ${os.release}`} (${os.platform} ${kernel}, ${arch})`;
}
