export { buildApp, SERVER_NAME, type BuildAppOptions } from './app.js';
export { loadConfig, loadAdminConfig, ConfigError, EnvSchema, ENV_VARS, type HubConfig } from './config.js';
export { HubErrors, HubError, type HubErrorCode } from './errors.js';
export { openHubCore, type HubCore } from './core.js';
export { serve } from './serve.js';
export { HUB_VERSION } from './version.js';
export type * from './services.js';
