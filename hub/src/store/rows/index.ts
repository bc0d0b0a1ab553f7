/**
 * What every store backend shares besides SQL: the row shapes of each table, the mappers between rows and the
 * records of `../types.ts`, the column lists and value orders of inserts, and the schema. Backend-neutral: nothing
 * here imports a database driver or a backend (scripts/check-boundaries.mjs enforces it), so `sqlite/` and
 * `postgres/` each keep only their SQL and driver calls.
 */
export * from './agents.js';
export * from './audit.js';
export * from './integrations.js';
export * from './json.js';
export * from './keys.js';
export * from './oauth.js';
export * from './schema.js';
export * from './users.js';
