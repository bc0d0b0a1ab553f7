export { caMissing, generateRsaKey, openCa, normalizeSerial, RENEWAL_WINDOW_MS, type HubCa, type IssuedCert } from './ca.js';
export * from './wire-key.js';
