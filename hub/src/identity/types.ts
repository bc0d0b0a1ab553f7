import { z } from 'zod';

/**
 * What sign-in needs from storage, as small async interfaces the hub store
 * implements (SQLite today, PostgreSQL for multi-hub). Nothing here holds a
 * token: states are kept by their SHA-256, the ID token is never stored.
 */

export const RoleSchema = z.enum(['admin', 'member']);
export type Role = z.infer<typeof RoleSchema>;

/** One started sign-in, kept server-side for 10 minutes and usable once. */
export interface LoginStateRecord {
  /** SHA-256 hex of the `state` value (the value itself travels only through the browser). */
  stateHash: string;
  /** SHA-256 hex of the httpOnly cookie set when the sign-in started: binds the state to that browser. */
  bindingHash: string;
  /** PKCE code verifier: never in a URL, never in the browser. */
  codeVerifier: string;
  nonce: string;
  createdAt: string;
  expiresAt: string;
  /** Set by the first callback that presents the state; a second presentation is a replay. */
  usedAt: string | null;
}

export interface LoginStateStore {
  put(record: LoginStateRecord): Promise<void>;
  /** Atomically marks the state used and returns the record as it was before (usedAt null on the first use). */
  take(stateHash: string, now: string): Promise<LoginStateRecord | undefined>;
  /** Deletes states whose expiry has passed (used ones are kept until then, to recognise replays). */
  removeExpired(now: string): Promise<number>;
}

/** Where a user record came from: added by an admin, or created at sign-in because a group is authorized. */
export const UserOriginSchema = z.enum(['admin', 'group']);
export type UserOrigin = z.infer<typeof UserOriginSchema>;

/** The part of a hub user that authorization reads. */
export interface DirectoryUser {
  id: string;
  email: string | null;
  role: Role;
  enabled: boolean;
  /** Stable provider subject, filled in at first sign-in; null until then. */
  subject: string | null;
  origin: UserOrigin;
  /** Group ids the provider reported at the user's last sign-in. */
  groups: string[];
}

export const AuthorizedGroupSchema = z.object({
  /** Entra group object id, or the group name the provider puts in its groups claim. */
  groupId: z.string().trim().min(1).max(256),
  displayName: z.string().trim().min(1).max(200),
  defaultRole: RoleSchema,
});
export type AuthorizedGroup = z.infer<typeof AuthorizedGroupSchema>;

/** Read side of the user directory, as sign-in needs it. */
export interface IdentityDirectory {
  userBySubject(subject: string): Promise<DirectoryUser | undefined>;
  /** A user added by e-mail that has not signed in yet (no subject). Case-insensitive. */
  unclaimedUserByEmail(email: string): Promise<DirectoryUser | undefined>;
  authorizedGroups(): Promise<AuthorizedGroup[]>;
}

/** A sign-in the provider vouched for and the hub verified. */
export interface VerifiedIdentity {
  /** Stable key: Entra `entra:<tid>:<oid>`, elsewhere `<iss>#<sub>`. */
  subject: string;
  issuer: string;
  email: string | null;
  /** Display name from the token (`name`, else the e-mail). */
  name: string | null;
  /** Group ids or names (Entra: object ids, plus app role values). */
  groups: string[];
  /** Entra directory id, when the provider is Entra. */
  tenantId: string | null;
  /** Kept only for the end-session request (id_token_hint); never stored. */
  idToken: string;
}
