export * from './scrubber.js';
export * from './custom-patterns.js';
export { REDACTED, isSecretValue } from './patterns.js';
export { isSensitiveName } from './sensitive-names.js';
