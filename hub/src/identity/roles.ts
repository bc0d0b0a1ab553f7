import type { AuthorizedGroup, DirectoryUser, Role } from './types.js';

const RANK: Record<Role, number> = { member: 1, admin: 2 };

export function higherRole(a: Role | undefined, b: Role | undefined): Role | undefined {
  if (!a) return b;
  if (!b) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

/** The authorized groups among `groups` (exact, case-sensitive: Entra ids are GUIDs, other providers' names are as given). */
export function matchingGroups(groups: readonly string[], authorized: readonly AuthorizedGroup[]): AuthorizedGroup[] {
  const mine = new Set(groups);
  return authorized.filter((g) => mine.has(g.groupId));
}

/**
 * The role a user holds now: the highest of their individual entry (when an
 * admin added them) and every authorized group they were in at their last
 * sign-in. A user who came only from groups holds nothing once those groups
 * are gone. Disabled users hold nothing. Run on every session request, so a
 * change applies at the session's next request.
 */
export function effectiveRole(
  user: Pick<DirectoryUser, 'role' | 'origin' | 'enabled' | 'groups'>,
  authorized: readonly AuthorizedGroup[],
): Role | undefined {
  if (!user.enabled) return undefined;
  let role: Role | undefined = user.origin === 'admin' ? user.role : undefined;
  for (const group of matchingGroups(user.groups, authorized)) role = higherRole(role, group.defaultRole);
  return role;
}
