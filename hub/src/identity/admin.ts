import { randomUUID } from 'node:crypto';
import { HubError } from '../errors.js';
import type { AuditEntryInput, AuditLog } from '../services.js';
import type { AuthorizedGroupRecord, HubStore, UserRecord } from '../store/types.js';
import { effectiveRole } from './roles.js';
import type { AuthorizedGroup, Role } from './types.js';

type Actor = AuditEntryInput['actor'];

export interface AddUserInput {
  /** Sign-in matches this at the user's first SSO login (then the provider subject takes over). */
  email?: string | null;
  /** Defaults to the e-mail. */
  name?: string;
  role: Role;
  enabled?: boolean;
}

export interface UpdateUserInput {
  role?: Role;
  enabled?: boolean;
  email?: string | null;
}

/**
 * Users and authorized groups, as the REST API and `sonde-hub users|groups`
 * change them: each change is one transaction with its audit entry; disabling
 * or removing a user ends their sessions in the same transaction.
 */
export function createDirectoryAdmin(deps: { store: HubStore; audit: AuditLog; bootstrapAdmin?: string }) {
  const { store, audit } = deps;

  async function userOf(tx: HubStore, idOrName: string): Promise<UserRecord> {
    const user = (await tx.users.getById(idOrName)) ?? (await tx.users.getByName(idOrName)) ?? (await tx.users.getByEmail(idOrName));
    if (!user) throw new HubError('SONDE_ERR_USER_NOT_FOUND', `No user with id, name or e-mail "${idOrName}".`);
    return user;
  }

  async function endSessions(tx: HubStore, user: UserRecord, actor: Actor, why: string): Promise<number> {
    const ended = await tx.sessions.removeForUser(user.id);
    if (ended > 0)
      await audit.append(
        { action: 'session.revoke', actor, status: 'ok', params: { userId: user.id, name: user.name, sessions: ended, why } },
        tx,
      );
    return ended;
  }

  return {
    listUsers: () => store.users.list(),

    addUser: (input: AddUserInput, actor: Actor) =>
      store.transaction(async (tx) => {
        const email = input.email?.trim().toLowerCase() || null;
        const name = input.name?.trim() || email;
        if (!name) throw new HubError('SONDE_ERR_VALIDATION', 'A user needs an e-mail address (for single sign-on) or a name.');
        if (await tx.users.getByName(name)) throw new HubError('SONDE_ERR_CONFLICT', `A user named "${name}" exists.`);
        if (email && (await tx.users.getByEmail(email))) throw new HubError('SONDE_ERR_CONFLICT', `A user with e-mail ${email} exists.`);
        const user: UserRecord = {
          id: randomUUID(),
          name,
          email,
          role: input.role,
          enabled: input.enabled ?? true,
          createdAt: new Date().toISOString(),
          subject: null,
          displayName: null,
          origin: 'admin',
          groups: [],
          lastLoginAt: null,
        };
        await tx.users.upsert(user);
        await audit.append(
          { action: 'user.create', actor, status: 'ok', params: { userId: user.id, name, email, role: user.role, enabled: user.enabled } },
          tx,
        );
        return user;
      }),

    updateUser: (idOrName: string, change: UpdateUserInput, actor: Actor) =>
      store.transaction(async (tx) => {
        const user = await userOf(tx, idOrName);
        const next: UserRecord = {
          ...user,
          role: change.role ?? user.role,
          enabled: change.enabled ?? user.enabled,
          email: change.email === undefined ? user.email : (change.email?.toLowerCase() ?? null),
          // An admin setting a role makes it an individual entry: it no longer depends on groups alone.
          origin: change.role ? 'admin' : user.origin,
        };
        await tx.users.upsert(next);
        await audit.append(
          {
            action: change.role && change.role !== user.role ? 'user.role' : 'user.update',
            actor,
            status: 'ok',
            params: { userId: user.id, name: user.name, ...change, ...(change.role ? { previousRole: user.role } : {}) },
          },
          tx,
        );
        if (user.enabled && !next.enabled) await endSessions(tx, next, actor, 'disabled');
        return next;
      }),

    removeUser: (idOrName: string, actor: Actor) =>
      store.transaction(async (tx) => {
        const user = await userOf(tx, idOrName);
        if (deps.bootstrapAdmin && user.name === deps.bootstrapAdmin)
          throw new HubError('SONDE_ERR_CONFLICT', 'The bootstrap admin (SONDE_ADMIN_USER) cannot be deleted; disable it instead.');
        await endSessions(tx, user, actor, 'removed');
        await tx.users.remove(user.id);
        await audit.append(
          { action: 'user.delete', actor, status: 'ok', params: { userId: user.id, name: user.name, origin: user.origin } },
          tx,
        );
        return user;
      }),

    listGroups: () => store.authorizedGroups.list(),

    addGroup: (input: AuthorizedGroup, actor: Actor) =>
      store.transaction(async (tx) => {
        if (await tx.authorizedGroups.get(input.groupId))
          throw new HubError('SONDE_ERR_CONFLICT', `Group "${input.groupId}" is already authorized.`);
        const record: AuthorizedGroupRecord = { ...input, createdAt: new Date().toISOString() };
        await tx.authorizedGroups.upsert(record);
        await audit.append({ action: 'group.create', actor, status: 'ok', params: input }, tx);
        return record;
      }),

    updateGroup: (groupId: string, change: { displayName?: string; defaultRole?: Role }, actor: Actor) =>
      store.transaction(async (tx) => {
        const current = await tx.authorizedGroups.get(groupId);
        if (!current) throw new HubError('SONDE_ERR_NOT_FOUND', `Group "${groupId}" is not authorized.`);
        const next = { ...current, ...change };
        await tx.authorizedGroups.upsert(next);
        await audit.append(
          {
            action: change.defaultRole && change.defaultRole !== current.defaultRole ? 'group.role' : 'group.update',
            actor,
            status: 'ok',
            params: { groupId, ...change, ...(change.defaultRole ? { previousRole: current.defaultRole } : {}) },
          },
          tx,
        );
        return next;
      }),

    /** Users who came only from groups and hold no authorized group any more are removed with it (and their sessions end). */
    removeGroup: (groupId: string, actor: Actor) =>
      store.transaction(async (tx) => {
        if (!(await tx.authorizedGroups.remove(groupId)))
          throw new HubError('SONDE_ERR_NOT_FOUND', `Group "${groupId}" is not authorized.`);
        const remaining = await tx.authorizedGroups.list();
        const orphans = (await tx.users.list()).filter(
          (u) => u.origin === 'group' && u.groups.includes(groupId) && !effectiveRole(u, remaining),
        );
        for (const user of orphans) {
          await endSessions(tx, user, actor, `group ${groupId} removed`);
          await tx.users.remove(user.id);
        }
        await audit.append(
          {
            action: 'group.delete',
            actor,
            status: 'ok',
            params: { groupId, removedUsers: orphans.map((u) => ({ userId: u.id, name: u.name })) },
          },
          tx,
        );
        return { removedUsers: orphans.length };
      }),
  };
}

export type DirectoryAdmin = ReturnType<typeof createDirectoryAdmin>;
