import type { AuthorizedGroupRecord, LoginStateRecord, SessionRecord, UserRecord } from '../types.js';
import { parseJson } from './json.js';

export interface UserRow {
  id: string;
  name: string;
  email: string | null;
  role: UserRecord['role'];
  /** BOOLEAN on PostgreSQL, INTEGER 0/1 on SQLite (which has no boolean). */
  enabled: boolean | number;
  created_at: string;
  subject: string | null;
  display_name: string | null;
  origin: UserRecord['origin'];
  groups: string;
  last_login_at: string | null;
}

export const toUser = (row: UserRow): UserRecord => ({
  id: row.id,
  name: row.name,
  email: row.email,
  role: row.role,
  enabled: row.enabled === true || row.enabled === 1,
  createdAt: row.created_at,
  subject: row.subject,
  displayName: row.display_name,
  origin: row.origin,
  groups: parseJson<string[]>(row.groups, []),
  lastLoginAt: row.last_login_at,
});

/** `INSERT INTO users (USER_COLUMNS)`, values in `userValues` order; `enabled` as the backend stores a boolean. */
export const USER_COLUMNS = 'id, name, email, role, enabled, created_at, subject, display_name, origin, groups, last_login_at';
export const userValues = (r: UserRecord, enabled: boolean | number): unknown[] => [
  r.id,
  r.name,
  r.email,
  r.role,
  enabled,
  r.createdAt,
  r.subject,
  r.displayName,
  r.origin,
  JSON.stringify(r.groups),
  r.lastLoginAt,
];

export interface SessionRow {
  hash: string;
  user_id: string;
  created_at: string;
  expires_at: string;
}

export const toSession = (row: SessionRow): SessionRecord => ({
  hash: row.hash,
  userId: row.user_id,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
});

export interface LoginStateRow {
  state_hash: string;
  binding_hash: string;
  code_verifier: string;
  nonce: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export const toLoginState = (row: LoginStateRow): LoginStateRecord => ({
  stateHash: row.state_hash,
  bindingHash: row.binding_hash,
  codeVerifier: row.code_verifier,
  nonce: row.nonce,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  usedAt: row.used_at,
});

/** `INSERT INTO login_states (LOGIN_STATE_COLUMNS)`, values in `loginStateValues` order. */
export const LOGIN_STATE_COLUMNS = 'state_hash, binding_hash, code_verifier, nonce, created_at, expires_at, used_at';
export const loginStateValues = (r: LoginStateRecord): unknown[] => [
  r.stateHash,
  r.bindingHash,
  r.codeVerifier,
  r.nonce,
  r.createdAt,
  r.expiresAt,
  r.usedAt,
];

export interface GroupRow {
  group_id: string;
  display_name: string;
  default_role: AuthorizedGroupRecord['defaultRole'];
  created_at: string;
}

export const toGroup = (row: GroupRow): AuthorizedGroupRecord => ({
  groupId: row.group_id,
  displayName: row.display_name,
  defaultRole: row.default_role,
  createdAt: row.created_at,
});
