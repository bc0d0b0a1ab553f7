import { effectiveRole } from '../identity/roles.js';
import type { Principal, Role } from '../services.js';
import type { HubStore, UserRecord } from '../store/types.js';

/**
 * The user an OAuth token speaks for, read again on every use (like a session,
 * auth/sessions.ts): disabled, removed or no longer in an authorized group means
 * no user, so their tokens stop at once.
 */
export async function activeUser(
  store: Pick<HubStore, 'users' | 'authorizedGroups'>,
  userId: string,
): Promise<{ user: UserRecord; role: Role } | undefined> {
  const user = await store.users.getById(userId);
  if (!user || !user.enabled) return undefined;
  const role = user.origin === 'admin' && user.groups.length === 0 ? user.role : effectiveRole(user, await store.authorizedGroups.list());
  return role ? { user, role } : undefined;
}

/** An OAuth-token caller: the user, with no key policy (their role and the PDP decide, as for a dashboard session). */
export function userPrincipal(user: UserRecord, role: Role): Principal {
  return { kind: 'user', id: user.id, name: user.name, role, policy: { allowedAgents: [], allowedProbes: [], allowedClients: [] } };
}
