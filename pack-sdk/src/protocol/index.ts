export * from './attestation.js';
export * from './canonical.js';
export * from './enroll.js';
export * from './envelope.js';
export * from './messages.js';
export * from './replay.js';
export * from './version.js';
export * from './wire.js';
