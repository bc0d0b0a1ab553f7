import { describe, expect, it } from 'vitest';
import { decideSignIn } from './authorize.js';
import { IdentityError } from './errors.js';
import { effectiveRole } from './roles.js';
import type { AuthorizedGroup, DirectoryUser, IdentityDirectory, VerifiedIdentity } from './types.js';

function directory(users: DirectoryUser[], groups: AuthorizedGroup[]): IdentityDirectory {
  return {
    userBySubject: (subject) => Promise.resolve(users.find((u) => u.subject === subject)),
    unclaimedUserByEmail: (email) => Promise.resolve(users.find((u) => u.subject === null && u.email === email.toLowerCase())),
    authorizedGroups: () => Promise.resolve(groups),
  };
}
const identity = (over: Partial<VerifiedIdentity> = {}): VerifiedIdentity => ({
  subject: 'https://idp#alice',
  issuer: 'https://idp',
  email: 'alice@example.com',
  name: 'Alice',
  groups: [],
  tenantId: null,
  idToken: 'x.y.z',
  ...over,
});
const user = (over: Partial<DirectoryUser> = {}): DirectoryUser => ({
  id: 'u1',
  email: 'alice@example.com',
  role: 'member',
  enabled: true,
  subject: null,
  origin: 'admin',
  groups: [],
  ...over,
});
const ops: AuthorizedGroup = { groupId: 'ops', displayName: 'Operations', defaultRole: 'admin' };
const dev: AuthorizedGroup = { groupId: 'dev', displayName: 'Developers', defaultRole: 'member' };

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (e: unknown) => (e instanceof IdentityError ? e.code : String(e)),
  );
}

describe('decideSignIn', () => {
  it('claims a user added by e-mail at the first sign-in, then finds them by subject only', async () => {
    const pre = user();
    expect(await decideSignIn(identity(), directory([pre], []))).toMatchObject({ kind: 'claim', role: 'member' });
    const claimed = user({ subject: 'https://idp#alice' });
    expect(await decideSignIn(identity({ email: 'renamed@example.com' }), directory([claimed], []))).toMatchObject({ kind: 'existing' });
    // Someone else presenting the same e-mail later finds no unclaimed record.
    expect(await codeOf(decideSignIn(identity({ subject: 'https://idp#mallory' }), directory([claimed], [])))).toBe(
      'SONDE_ERR_OIDC_UNKNOWN_USER',
    );
  });

  it('highest role wins between the individual entry and every matching group', async () => {
    const d = directory([user({ subject: 'https://idp#alice' })], [ops, dev]);
    expect((await decideSignIn(identity({ groups: ['dev'] }), d)).role).toBe('member');
    expect((await decideSignIn(identity({ groups: ['dev', 'ops'] }), d)).role).toBe('admin');
    const admin = directory([user({ subject: 'https://idp#alice', role: 'admin' })], [dev]);
    expect((await decideSignIn(identity({ groups: ['dev'] }), admin)).role).toBe('admin');
  });

  it('creates a record for a member of an authorized group, and refuses once the group is gone', async () => {
    expect(await decideSignIn(identity({ email: null, groups: ['dev'] }), directory([], [dev]))).toMatchObject({
      kind: 'create',
      role: 'member',
    });
    const fromGroup = user({ subject: 'https://idp#alice', origin: 'group', groups: ['dev'] });
    expect(await codeOf(decideSignIn(identity({ groups: ['dev'] }), directory([fromGroup], [])))).toBe('SONDE_ERR_OIDC_UNKNOWN_USER');
    expect(await codeOf(decideSignIn(identity({ groups: [] }), directory([], [dev])))).toBe('SONDE_ERR_OIDC_UNKNOWN_USER');
  });

  it('refuses a disabled user even when a group would authorize them', async () => {
    const d = directory([user({ subject: 'https://idp#alice', enabled: false })], [ops]);
    expect(await codeOf(decideSignIn(identity({ groups: ['ops'] }), d))).toBe('SONDE_ERR_OIDC_USER_DISABLED');
  });
});

describe('effectiveRole (checked on every session request)', () => {
  it('follows group removal, group role changes and disabling at once', () => {
    const fromGroup = { role: 'member' as const, origin: 'group' as const, enabled: true, groups: ['ops'] };
    expect(effectiveRole(fromGroup, [ops])).toBe('admin');
    expect(effectiveRole(fromGroup, [{ ...ops, defaultRole: 'member' }])).toBe('member');
    expect(effectiveRole(fromGroup, [])).toBeUndefined();
    expect(effectiveRole({ ...fromGroup, enabled: false }, [ops])).toBeUndefined();
  });
});
