import { IdentityError } from './errors.js';
import { effectiveRole, matchingGroups } from './roles.js';
import type { AuthorizedGroup, DirectoryUser, IdentityDirectory, Role, VerifiedIdentity } from './types.js';

/** What a verified sign-in means for the hub's user directory; the caller applies it in one transaction. */
export type SignInDecision =
  /** A user who signed in before (matched on the subject). */
  | { kind: 'existing'; user: DirectoryUser; role: Role; viaGroups: AuthorizedGroup[] }
  /** A user an admin added by e-mail, signing in for the first time: the subject is recorded now. */
  | { kind: 'claim'; user: DirectoryUser; role: Role; viaGroups: AuthorizedGroup[] }
  /** No user record, but an authorized group: a record is created (origin `group`). */
  | { kind: 'create'; role: Role; viaGroups: AuthorizedGroup[] };

/**
 * Who may sign in and as what. Users are found by the provider's stable subject;
 * the e-mail is used only once, to claim a record an admin added before the
 * user's first sign-in. The highest of the individual role and the groups' roles wins.
 */
export async function decideSignIn(identity: VerifiedIdentity, directory: IdentityDirectory): Promise<SignInDecision> {
  const authorized = await directory.authorizedGroups();
  const viaGroups = matchingGroups(identity.groups, authorized);
  let user = await directory.userBySubject(identity.subject);
  let kind: 'existing' | 'claim' = 'existing';
  if (!user && identity.email) {
    user = await directory.unclaimedUserByEmail(identity.email);
    kind = 'claim';
  }
  if (user) {
    if (!user.enabled) throw new IdentityError('SONDE_ERR_OIDC_USER_DISABLED', `user ${user.id} is disabled`);
    const role = effectiveRole({ ...user, groups: identity.groups }, authorized);
    if (!role)
      throw new IdentityError(
        'SONDE_ERR_OIDC_UNKNOWN_USER',
        `user ${user.id} came from a group and is in no authorized group any more (${describeGroups(identity.groups)})`,
      );
    return { kind, user, role, viaGroups };
  }
  const role = effectiveRole({ role: 'member', origin: 'group', enabled: true, groups: identity.groups }, authorized);
  if (!role)
    throw new IdentityError(
      'SONDE_ERR_OIDC_UNKNOWN_USER',
      `no user with this subject${identity.email ? ` or e-mail ${identity.email}` : ''} and no authorized group (${describeGroups(identity.groups)})`,
    );
  return { kind: 'create', role, viaGroups };
}

function describeGroups(groups: readonly string[]): string {
  if (groups.length === 0) return 'the token names no groups';
  const shown = groups.slice(0, 5).join(', ');
  return `token groups: ${shown}${groups.length > 5 ? ` and ${groups.length - 5} more` : ''}`;
}
