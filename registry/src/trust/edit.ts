import type { PublicKeyFile } from '../crypto/keys.js';
import { RegistryError } from '../errors.js';
import { RotationStatementSchema, TrustStoreSchema, type AllowRule, type DenyRule, type Pin, type TrustStore } from './schema.js';
import { Trust } from './trust.js';

/**
 * Edits of a trust store shared by `sonde-registry trust`, `sonde trust` and
 * the hub. Each returns a new store and refuses one that would not load, so a
 * bad edit never reaches the disk.
 */

export type KeyRole = 'publisher' | 'hub' | 'index';

export interface AddKeyOptions {
  role?: KeyRole;
  /** Pack patterns this publisher may sign; none adds no allow rule (pins only). */
  allow?: readonly string[];
  notBefore?: Date;
  notAfter?: Date;
}

export function emptyTrustStore(): TrustStore {
  return TrustStoreSchema.parse({ type: 'sonde-trust-store' });
}

function checked(store: TrustStore): TrustStore {
  new Trust(store);
  return store;
}

function copy(store: TrustStore): TrustStore {
  return TrustStoreSchema.parse(structuredClone(store));
}

export function addTrustedKey(
  store: TrustStore,
  key: Pick<PublicKeyFile, 'keyId' | 'publicKey' | 'publisher'>,
  options: AddKeyOptions = {},
): TrustStore {
  const next = copy(store);
  const role = options.role ?? 'publisher';
  if (role === 'hub' || role === 'index') {
    const list = role === 'hub' ? next.hubKeys : next.indexKeys;
    if (!list.some((known) => known.keyId === key.keyId)) list.push({ keyId: key.keyId, publicKey: key.publicKey });
    return checked(next);
  }
  if (!next.keys.some((known) => known.keyId === key.keyId)) {
    next.keys.push({
      keyId: key.keyId,
      publicKey: key.publicKey,
      ...(key.publisher ? { publisher: key.publisher } : {}),
      ...(options.notBefore ? { notBefore: options.notBefore.toISOString() } : {}),
      ...(options.notAfter ? { notAfter: options.notAfter.toISOString() } : {}),
    });
  }
  for (const pack of options.allow ?? []) {
    if (!next.policy.allow.some((rule) => rule.publisher === key.keyId && rule.pack === pack && rule.versions === undefined))
      next.policy.allow.push({ publisher: key.keyId, pack });
  }
  return checked(next);
}

export function removeTrustedKey(store: TrustStore, keyId: string): TrustStore {
  const next = copy(store);
  const before = next.keys.length + next.hubKeys.length + next.indexKeys.length;
  next.keys = next.keys.filter((key) => key.keyId !== keyId);
  next.hubKeys = next.hubKeys.filter((key) => key.keyId !== keyId);
  next.indexKeys = next.indexKeys.filter((key) => key.keyId !== keyId);
  if (next.keys.length + next.hubKeys.length + next.indexKeys.length === before)
    throw new RegistryError('SONDE_ERR_TRUST_INVALID', `key ${keyId} is not in the trust store`);
  next.policy.allow = next.policy.allow.filter((rule) => rule.publisher !== keyId);
  return checked(next);
}

export function addAllowRule(store: TrustStore, rule: AllowRule): TrustStore {
  const next = copy(store);
  next.policy.allow.push(rule);
  return checked(next);
}

export function addDenyRule(store: TrustStore, rule: DenyRule): TrustStore {
  const next = copy(store);
  next.policy.deny.push(rule);
  return checked(next);
}

/**
 * Adds a key hand-over signed by the old key (`sonde-registry rotate`). The
 * store refuses it unless the old key is known and the signature verifies;
 * the new key inherits the old key's publisher and allow rules, and the old
 * key stays so packs it signed in its window keep verifying.
 */
export function addRotation(store: TrustStore, statement: unknown): TrustStore {
  const parsed = RotationStatementSchema.safeParse(statement);
  if (!parsed.success)
    throw new RegistryError('SONDE_ERR_ROTATION_INVALID', 'not a key rotation statement (sonde-registry rotate writes one)');
  const next = copy(store);
  next.rotations = next.rotations.filter((known) => !(known.from === parsed.data.from && known.to.keyId === parsed.data.to.keyId));
  next.rotations.push(parsed.data);
  return checked(next);
}

/** A pin admits exactly this content for this version, whoever signed it among trusted keys. */
export function addPin(store: TrustStore, pin: Pin): TrustStore {
  const next = copy(store);
  next.policy.pins = next.policy.pins.filter((known) => !(known.pack === pin.pack && known.version === pin.version));
  next.policy.pins.push(pin);
  return checked(next);
}
