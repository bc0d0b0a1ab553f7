export { loadOAuthConfig, OAuthEnvSchema, type OAuthConfig } from './config.js';
export { createOAuthService, type OAuthService } from './service.js';
export { oauthRoutes, RETURN_PATTERN } from './routes.js';
export { PRM_PATH, protectedResourceMetadata } from './resource.js';
