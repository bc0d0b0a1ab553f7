export { decideSignIn, type SignInDecision } from './authorize.js';
export { IDENTITY_ENV_VARS, IdentityConfigError, IdentityEnvSchema, loadIdentityConfig, type OidcProviderConfig } from './config.js';
export { IdentityError, IdentityErrors, type IdentityErrorCode } from './errors.js';
export { groupsFromClaims, transitiveGroupIds } from './groups.js';
export { CALLBACK_PATH, createOidcLogin, LOGIN_STATE_TTL_MS, type OidcLogin, type OidcLoginOptions } from './login.js';
export { effectiveRole, higherRole, matchingGroups } from './roles.js';
export * from './types.js';
export { CLIENT_SECRET_SETTING, createClientSecrets, type ClientSecrets, type ClientSecretSource } from './client-secret.js';
