import { createRequire } from 'node:module';

/**
 * CommonJS dependencies on `sonde start`'s path (ws, pino, semver) are loaded with require(): importing
 * them from ESM first runs Node's export lexer over each of their files (ws alone: ~60 ms of CPU).
 */
export const requireCjs = createRequire(import.meta.url);
