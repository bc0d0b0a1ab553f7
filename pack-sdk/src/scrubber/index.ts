export * from './scrubber.js';
export * from './custom-patterns.js';
export { REDACTED, isSecretValue } from './patterns.js';
export { isSensitiveName } from './sensitive-names.js';
export { normalizeStatement, type SqlDialect } from './statements.js';
