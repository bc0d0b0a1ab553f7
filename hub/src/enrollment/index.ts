export * from './tokens.js';
export * from './enroll.js';
