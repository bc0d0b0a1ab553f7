export * from './errors.js';
export * from './manifest/permissions.js';
export * from './manifest/schema.js';
export * from './manifest/define.js';
export * from './runtime/context.js';
export * from './runtime/guard.js';
export * from './runtime/run-probe.js';
export * from './runtime/exec-result.js';
