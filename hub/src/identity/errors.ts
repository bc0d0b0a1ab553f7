/**
 * Why a sign-in was refused. Each code is also the audit outcome of the attempt,
 * so an admin reading the audit sees the same words as the user's error page.
 */
export const IdentityErrors = {
  SONDE_ERR_OIDC_CONFIG: 'Single sign-on is misconfigured.',
  SONDE_ERR_OIDC_DISABLED: 'Single sign-on is not configured on this hub.',
  SONDE_ERR_OIDC_STATE: 'The sign-in link is unknown, expired or was started in another browser; start the sign-in again.',
  SONDE_ERR_OIDC_REPLAY: 'This sign-in response was already used; start the sign-in again.',
  SONDE_ERR_OIDC_PROVIDER: 'The identity provider refused or failed the sign-in.',
  SONDE_ERR_OIDC_TOKEN: 'The identity provider returned an ID token that does not verify.',
  SONDE_ERR_OIDC_TENANT: 'The account belongs to a directory (tenant) this hub does not accept.',
  SONDE_ERR_OIDC_GROUP_OVERAGE: 'The account is in too many groups for the ID token and its groups could not be read.',
  SONDE_ERR_OIDC_UNKNOWN_USER: 'The account is not authorized on this hub: ask an admin to add it or one of its groups.',
  SONDE_ERR_OIDC_USER_DISABLED: 'The account is disabled on this hub.',
} as const;

export type IdentityErrorCode = keyof typeof IdentityErrors;

export class IdentityError extends Error {
  constructor(
    readonly code: IdentityErrorCode,
    /** What happened, for the audit and the log; may name the fix. Never contains a token or secret. */
    readonly detail: string = IdentityErrors[code],
  ) {
    super(detail);
    this.name = 'IdentityError';
  }
}
