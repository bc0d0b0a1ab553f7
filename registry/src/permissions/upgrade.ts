import semver from 'semver';
import type { PermissionsInput } from '@sonde/pack-sdk';
import { diffPermissions, type PermissionDiff } from './diff.js';

/**
 * Semver precedence of two pack versions (-1, 0 or 1): releases outrank their pre-releases, build metadata is
 * ignored. The one ordering the agent and the hub use for "newest", "older than approved" and "downgrade".
 * Loose, so a version the manifest schema admits (it allows leading zeros) never throws.
 */
export function compareVersions(a: string, b: string): number {
  return semver.compare(a, b, { loose: true });
}

/**
 * Whether `a` is a newer version than `b` by the same precedence, for versions a peer reports (an agent's own
 * version, its packs'): anything that does not parse is never newer, and nothing throws.
 */
export function isNewerVersion(a: string, b: string): boolean {
  const left = semver.parse(a, { loose: true });
  const right = semver.parse(b, { loose: true });
  return left !== null && right !== null && left.compare(right) > 0;
}

/** A version of a pack and the permissions it declares (its signed manifest's `permissions`). */
export interface VersionPermissions {
  version: string;
  permissions: PermissionsInput | undefined;
}

/**
 * What happens to a newly installed version of a pack:
 * - `pending` (`first`): nothing is approved yet; it waits for an operator to approve it;
 * - `refused` (`downgrade`): it is older than the approved version, and a downgrade was not asked for;
 * - `active` (`same-or-fewer`): it asks for no permission the approved version did not have, so the approval
 *   follows the version at once;
 * - `pending` (`more`): it asks for more, so it waits while the approved version keeps serving.
 * `diff` is always against the approved version (everything is added for a first version).
 */
export type UpgradeDecision =
  | { outcome: 'pending'; why: 'first' | 'more'; diff: PermissionDiff }
  | { outcome: 'active'; why: 'same-or-fewer'; diff: PermissionDiff }
  | { outcome: 'refused'; why: 'downgrade'; diff: PermissionDiff };

/**
 * The rule for a new version of an approved pack, shared by the agent (`sonde packs install` / `update`) and the
 * hub (integration packs): the same or fewer permissions activate, more wait, and no downgrade unless asked for.
 * `approved` is the approved version, when there is one; the caller has verified both versions.
 */
export function decideUpgrade(
  approved: VersionPermissions | undefined,
  candidate: VersionPermissions,
  options: { allowDowngrade?: boolean } = {},
): UpgradeDecision {
  const diff = diffPermissions(approved?.permissions, candidate.permissions);
  if (!approved) return { outcome: 'pending', why: 'first', diff };
  if (isDowngrade(approved.version, candidate.version) && !options.allowDowngrade) return { outcome: 'refused', why: 'downgrade', diff };
  return diff.widened ? { outcome: 'pending', why: 'more', diff } : { outcome: 'active', why: 'same-or-fewer', diff };
}

/** Whether putting `candidate` in place of the approved version goes back to an older version (which needs explicit consent). */
export function isDowngrade(approvedVersion: string | undefined, candidate: string): boolean {
  return approvedVersion !== undefined && compareVersions(candidate, approvedVersion) < 0;
}
