import type { HubStore } from '../store/types.js';
import { deriveKeys } from './keys.js';
import { createSealer, verifySecret, type Sealer } from './sealer.js';

export { sha256Hex, randomToken, safeEqual } from './hash.js';
export { SealError, type Sealer } from './sealer.js';

export interface HubCrypto {
  sealer: Sealer;
  auditKey: Buffer;
  mcpSessionKey: Buffer;
  revocationSeed: Buffer;
}

/** Derives every key from SONDE_SECRET (scrypt once) and checks the secret against this database. */
export function openCrypto(secret: string, store: Pick<HubStore, 'settings' | 'transaction'>): HubCrypto {
  const keys = deriveKeys(secret, store.settings, store.transaction);
  const sealer = createSealer(new Map([[keys.sealKid, keys.sealKey]]), keys.sealKid);
  verifySecret(sealer, store.settings, store.transaction);
  return { sealer, auditKey: keys.auditKey, mcpSessionKey: keys.mcpSessionKey, revocationSeed: keys.revocationSeed };
}
