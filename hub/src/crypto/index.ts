import type { HubStore } from '../store/types.js';
import { deriveKeys, deriveKeysAsync, type HubKeys } from './keys.js';
import { createSealer, verifySecret, type Sealer } from './sealer.js';

export { sha256Hex, randomToken, safeEqual } from './hash.js';
export { SealError, type Sealer } from './sealer.js';

export interface HubCrypto {
  sealer: Sealer;
  auditKey: Buffer;
  mcpSessionKey: Buffer;
  revocationSeed: Buffer;
  /** Hub-to-hub HMAC key (multi-hub over NATS). */
  clusterKey: Buffer;
  wireSeed: Buffer;
}

type CryptoStore = Pick<HubStore, 'transaction'>;

/** Derives every key from SONDE_SECRET (scrypt once, on this thread) and checks the secret against this database. */
export async function openCrypto(secret: string, store: CryptoStore): Promise<HubCrypto> {
  return cryptoFrom(await deriveKeys(secret, store), store);
}

/** openCrypto with scrypt off the main thread (the server's start-up). */
export async function openCryptoAsync(secret: string, store: CryptoStore): Promise<HubCrypto> {
  return cryptoFrom(await deriveKeysAsync(secret, store), store);
}

async function cryptoFrom(keys: HubKeys, store: CryptoStore): Promise<HubCrypto> {
  const sealer = createSealer(new Map([[keys.sealKid, keys.sealKey]]), keys.sealKid);
  await verifySecret(sealer, store);
  return {
    sealer,
    auditKey: keys.auditKey,
    mcpSessionKey: keys.mcpSessionKey,
    revocationSeed: keys.revocationSeed,
    clusterKey: keys.clusterKey,
    wireSeed: keys.wireSeed,
  };
}
