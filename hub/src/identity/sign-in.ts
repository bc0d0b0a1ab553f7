import { createHash, randomUUID } from 'node:crypto';
import type { SessionService } from '../auth/sessions.js';
import type { AuditLog } from '../services.js';
import type { HubStore, UserRecord } from '../store/types.js';
import { decideSignIn } from './authorize.js';
import { IdentityError, IdentityErrors, type IdentityErrorCode } from './errors.js';
import type { OidcLogin } from './login.js';
import type { IdentityDirectory, Role, VerifiedIdentity } from './types.js';

/** The audit outcome of every sign-in attempt, one word each (issue 20's list). */
const OUTCOME: Record<IdentityErrorCode, string> = {
  SONDE_ERR_OIDC_CONFIG: 'config_error',
  SONDE_ERR_OIDC_DISABLED: 'sso_off',
  SONDE_ERR_OIDC_STATE: 'wrong_state',
  SONDE_ERR_OIDC_REPLAY: 'replayed',
  SONDE_ERR_OIDC_PROVIDER: 'provider_error',
  SONDE_ERR_OIDC_TOKEN: 'invalid_id_token',
  SONDE_ERR_OIDC_TENANT: 'wrong_tenant',
  SONDE_ERR_OIDC_GROUP_OVERAGE: 'group_overage',
  SONDE_ERR_OIDC_UNKNOWN_USER: 'unknown_user',
  SONDE_ERR_OIDC_USER_DISABLED: 'disabled_user',
};

export type SignInOutcome =
  | { ok: true; user: UserRecord; role: Role; session: { id: string; expiresAt: Date }; idToken: string }
  | { ok: false; code: IdentityErrorCode; message: string };

/** The store as sign-in reads it. */
export function storeDirectory(store: HubStore): IdentityDirectory {
  return {
    userBySubject: (subject) => store.users.getBySubject(subject),
    unclaimedUserByEmail: (email) => store.users.getUnclaimedByEmail(email),
    authorizedGroups: () => store.authorizedGroups.list(),
  };
}

/** A unique, readable user name: the e-mail, else the display name, else a short hash of the subject. */
async function freeName(tx: HubStore, identity: VerifiedIdentity): Promise<string> {
  const base = (identity.email ?? identity.name ?? `sso-${createHash('sha256').update(identity.subject).digest('hex').slice(0, 12)}`).slice(
    0,
    190,
  );
  for (let i = 1; ; i++) {
    const name = i === 1 ? base : `${base} (${i})`;
    if (!(await tx.users.getByName(name))) return name;
  }
}

/**
 * The callback's second half: a verified identity becomes a session, or the
 * attempt is refused, and either way one audit entry says what happened.
 */
export function createSignIn(deps: { login: OidcLogin; store: HubStore; audit: AuditLog; sessions: SessionService }) {
  const { login, store, audit, sessions } = deps;

  async function refuse(error: IdentityError, from: string, identity?: VerifiedIdentity): Promise<SignInOutcome> {
    await audit.append({
      action: 'login.sso',
      actor: { kind: 'user', id: null, name: identity?.email ?? identity?.name ?? null },
      status: error.code === 'SONDE_ERR_OIDC_PROVIDER' || error.code === 'SONDE_ERR_OIDC_CONFIG' ? 'error' : 'denied',
      params: {
        outcome: OUTCOME[error.code],
        code: error.code,
        ...(identity ? { subject: identity.subject, groups: identity.groups.length } : {}),
      },
      detail: `${error.detail} (from ${from})`,
    });
    return { ok: false, code: error.code, message: IdentityErrors[error.code] };
  }

  return {
    async finish(query: string, binding: string | undefined, from: string): Promise<SignInOutcome> {
      let identity: VerifiedIdentity;
      try {
        identity = await login.complete(query, binding);
      } catch (error) {
        if (error instanceof IdentityError) return refuse(error, from);
        throw error;
      }
      const at = new Date().toISOString();
      let result: { user: UserRecord; role: Role; kind: string; viaGroups: string[] };
      try {
        result = await store.transaction(async (tx) => {
          const decision = await decideSignIn(identity, storeDirectory(tx));
          const seen = { groups: identity.groups, lastLoginAt: at, displayName: identity.name };
          let user: UserRecord;
          if (decision.kind === 'create') {
            user = {
              id: randomUUID(),
              name: await freeName(tx, identity),
              email: identity.email,
              // For a user from groups this is only what they held when created: groups decide (roles.effectiveRole).
              role: decision.role,
              enabled: true,
              createdAt: at,
              subject: identity.subject,
              origin: 'group',
              ...seen,
            };
          } else {
            const current = (await tx.users.getById(decision.user.id))!;
            user = { ...current, subject: identity.subject, email: current.email ?? identity.email, ...seen };
          }
          await tx.users.upsert(user);
          const viaGroups = decision.viaGroups.map((g) => g.groupId);
          await audit.append(
            {
              action: 'login.sso',
              actor: { kind: 'user', id: user.id, name: user.name },
              status: 'ok',
              params: {
                outcome: decision.kind === 'create' || (user.origin === 'group' && decision.kind === 'existing') ? 'group_user' : 'ok',
                first: decision.kind !== 'existing',
                subject: identity.subject,
                role: decision.role,
                viaGroups,
              },
              detail: `from ${from}`,
            },
            tx,
          );
          return { user, role: decision.role, kind: decision.kind, viaGroups };
        });
      } catch (error) {
        if (error instanceof IdentityError) return refuse(error, from, identity);
        throw error;
      }
      const session = await sessions.create(result.user.id);
      return { ok: true, user: result.user, role: result.role, session, idToken: identity.idToken };
    },
  };
}

export type SignIn = ReturnType<typeof createSignIn>;
