import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { HubError } from '../errors.js';
import type { HubStore } from '../store/types.js';

/**
 * AES-256-GCM for secrets at rest. Format: `v1:<kid>:<iv>:<tag>:<ciphertext>`
 * (base64 parts). The kid names the key, so values sealed under an older key
 * can be told apart and re-sealed after a rotation. `aad` binds a value to
 * where it is stored (a sealed CA key cannot be swapped into another setting).
 */
export interface Sealer {
  readonly kid: string;
  seal(plaintext: string | Buffer, aad?: string): string;
  open(sealed: string, aad?: string): Buffer;
  openText(sealed: string, aad?: string): string;
}

export class SealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealError';
  }
}

export function createSealer(keys: Map<string, Buffer>, currentKid: string): Sealer {
  const current = keys.get(currentKid);
  if (!current) throw new Error('current key missing');
  const open = (sealed: string, aad?: string): Buffer => {
    const parts = sealed.split(':');
    if (parts.length !== 5 || parts[0] !== 'v1') throw new SealError('not a sealed value');
    const [, kid, iv, tag, ct] = parts as [string, string, string, string, string];
    const key = keys.get(kid);
    if (!key) throw new SealError(`sealed with an unknown key (${kid})`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    if (aad !== undefined) decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64')), decipher.final()]);
    } catch {
      throw new SealError('sealed value failed authentication (wrong key or tampered)');
    }
  };
  return {
    kid: currentKid,
    seal(plaintext, aad) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      if (aad !== undefined) cipher.setAAD(Buffer.from(aad));
      const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return ['v1', currentKid, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ct.toString('base64')].join(':');
    },
    open,
    openText: (sealed, aad) => open(sealed, aad).toString('utf8'),
  };
}

const CHECK_SETTING = 'crypto.check';
const CHECK_PLAINTEXT = 'sonde-secret-check';

/**
 * A sealed known value: on first start it is written; on every later start it
 * must open, so a wrong SONDE_SECRET stops start-up instead of producing garbage.
 */
export async function verifySecret(sealer: Sealer, store: Pick<HubStore, 'transaction'>): Promise<void> {
  await store.transaction(async (tx) => {
    const check = await tx.settings.get(CHECK_SETTING);
    if (check === undefined) {
      await tx.settings.set(CHECK_SETTING, sealer.seal(CHECK_PLAINTEXT, CHECK_SETTING));
      return;
    }
    let ok = false;
    try {
      ok = sealer.openText(check, CHECK_SETTING) === CHECK_PLAINTEXT;
    } catch {
      ok = false;
    }
    if (!ok) throw new HubError('SONDE_ERR_WRONG_SECRET');
  });
}
