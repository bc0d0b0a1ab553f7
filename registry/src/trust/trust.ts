import { readFile } from 'node:fs/promises';
import { globMatcher } from '@sonde/pack-sdk';
import { canonicalJson } from '@sonde/pack-sdk/protocol';
import semver from 'semver';
import { z } from 'zod';
import { keyIdOf, verifyDetached } from '../crypto/keys.js';
import { RegistryError } from '../errors.js';
import { findRevokedVersion, verifyRevocationList, type RevocationList, type RevokedPack } from '../revocation/list.js';
import { TrustStoreSchema, type AllowRule, type DenyRule, type Pin, type TrustStore } from './schema.js';

/** A key the trust store accepts, with its window resolved and how it came to be trusted. */
export interface ResolvedKey {
  keyId: string;
  publicKey: string;
  publisher: string | undefined;
  notBefore: Date | undefined;
  notAfter: Date | undefined;
  /** Key ids this key was rotated from, oldest first; empty for a key listed in the store. */
  rotatedFrom: string[];
}

export interface LoadTrustOptions {
  /** The hub's current revocation list; verified here against the store's hubKeys. */
  revocations?: RevocationList | undefined;
}

export type PolicyDecision =
  | { ok: true; via: 'pin' | 'allow'; rule: Pin | AllowRule }
  | { ok: false; code: 'SONDE_ERR_PACK_DENIED' | 'SONDE_ERR_PACK_NOT_ALLOWED' | 'SONDE_ERR_PACK_PIN_MISMATCH'; reason: string };

/**
 * Pack patterns in Sonde's one glob dialect (picomatch, `globMatcher` in @sonde/pack-sdk, compiled once). `bash`:
 * `*` matches any run of characters, `/` included, as the trust store has always documented, so `@acme*` still
 * covers `@acme/pack-x`; a leading `!` is literal (no negation: a deny rule never turns into its opposite); a pattern
 * without wildcards is the name itself.
 */
const PACK_PATTERN_OPTIONS = { bash: true, nonegate: true } as const;
function patternMatches(pattern: string, name: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === name;
  return globMatcher(pattern, PACK_PATTERN_OPTIONS)(name);
}

function anyNameMatches(pattern: string, names: readonly string[]): boolean {
  return names.some((name) => patternMatches(pattern, name));
}

function inRange(version: string, range: string | undefined): boolean {
  return range === undefined || semver.satisfies(version, range, { includePrerelease: true });
}

const date = (value: string | undefined): Date | undefined => (value === undefined ? undefined : new Date(value));

/**
 * Trust material compiled for verification: keys (rotations applied and
 * checked), policy, and the revocation list. Build once per load of the trust
 * file and revocation list; every check is then offline and synchronous.
 */
export class Trust {
  readonly store: TrustStore;
  readonly revocations: RevocationList | undefined;
  private readonly keys = new Map<string, ResolvedKey>();

  constructor(input: unknown, options: LoadTrustOptions = {}) {
    const parsed = TrustStoreSchema.safeParse(input);
    if (!parsed.success) throw new RegistryError('SONDE_ERR_TRUST_INVALID', `invalid trust store: ${z.prettifyError(parsed.error)}`);
    this.store = parsed.data;
    for (const key of this.store.keys) {
      let actual: string;
      try {
        actual = keyIdOf(key.publicKey);
      } catch {
        throw new RegistryError('SONDE_ERR_TRUST_INVALID', `trusted key ${key.keyId}: the public key is not 32 bytes`);
      }
      if (actual !== key.keyId)
        throw new RegistryError('SONDE_ERR_TRUST_INVALID', `trusted key ${key.keyId}: keyId does not match its public key (${actual})`);
      this.keys.set(key.keyId, {
        keyId: key.keyId,
        publicKey: key.publicKey,
        publisher: key.publisher,
        notBefore: date(key.notBefore),
        notAfter: date(key.notAfter),
        rotatedFrom: [],
      });
    }
    this.applyRotations();
    if (options.revocations !== undefined) {
      if (this.store.hubKeys.length === 0) {
        throw new RegistryError(
          'SONDE_ERR_REVOCATIONS_INVALID',
          'a revocation list was given but the trust store has no hubKeys to check it',
        );
      }
      const verified = verifyRevocationList(options.revocations, this.store.hubKeys);
      if (!verified.ok) throw new RegistryError(verified.code, verified.reason);
      this.revocations = verified.list;
    }
  }

  /** Rotations may be listed in any order; each must be signed by a key already trusted and inside its window. */
  private applyRotations(): void {
    const pending = [...this.store.rotations];
    while (pending.length > 0) {
      const index = pending.findIndex((rotation) => this.keys.has(rotation.from));
      if (index === -1) {
        throw new RegistryError('SONDE_ERR_ROTATION_INVALID', `rotation from key ${pending[0].from}: that key is not in the trust store`);
      }
      const [rotation] = pending.splice(index, 1);
      const { signature, ...body } = rotation;
      const from = this.keys.get(body.from)!;
      if (!verifyDetached('sonde-key-rotation/v1', canonicalJson(body), signature, from.publicKey)) {
        throw new RegistryError(
          'SONDE_ERR_ROTATION_INVALID',
          `rotation ${body.from} → ${body.to.keyId}: signature does not verify against ${body.from}`,
        );
      }
      if (keyIdOf(body.to.publicKey) !== body.to.keyId) {
        throw new RegistryError(
          'SONDE_ERR_ROTATION_INVALID',
          `rotation ${body.from} → ${body.to.keyId}: keyId does not match the new public key`,
        );
      }
      const issuedAt = new Date(body.issuedAt);
      if (!withinWindow(from, issuedAt)) {
        throw new RegistryError(
          'SONDE_ERR_ROTATION_INVALID',
          `rotation ${body.from} → ${body.to.keyId}: issued outside the old key's validity window`,
        );
      }
      if (body.retireFromAt !== undefined) {
        const retire = new Date(body.retireFromAt);
        if (from.notAfter === undefined || retire < from.notAfter) from.notAfter = retire;
      }
      if (!this.keys.has(body.to.keyId)) {
        this.keys.set(body.to.keyId, {
          keyId: body.to.keyId,
          publicKey: body.to.publicKey,
          publisher: from.publisher,
          notBefore: date(body.to.notBefore),
          notAfter: date(body.to.notAfter),
          rotatedFrom: [...from.rotatedFrom, from.keyId],
        });
      }
    }
  }

  key(keyId: string): ResolvedKey | undefined {
    return this.keys.get(keyId);
  }

  allKeys(): ResolvedKey[] {
    return [...this.keys.values()];
  }

  /** The revoked key id that disqualifies this key: itself or any key it was rotated from. */
  revokedAncestor(key: ResolvedKey): { keyId: string; reason: string | undefined } | undefined {
    for (const keyId of [key.keyId, ...key.rotatedFrom]) {
      const entry = this.revocations?.keys.find((revoked) => revoked.keyId === keyId);
      if (entry) return { keyId, reason: entry.reason };
    }
    return undefined;
  }

  revokedVersion(names: readonly string[], version: string): RevokedPack | undefined {
    return findRevokedVersion(this.revocations, names, version);
  }

  /**
   * Deny first (so a single pack or version can be carved out of a broad
   * allow), then a pin for this exact version (its integrity must match),
   * then allow rules. Nothing matching means not allowed.
   */
  decide(names: readonly string[], version: string, key: ResolvedKey, integrity: string): PolicyDecision {
    const { allow, deny, pins } = this.store.policy;
    const denied = deny.find((rule: DenyRule) => anyNameMatches(rule.pack, names) && inRange(version, rule.versions));
    if (denied) {
      const what = denied.versions ? `${denied.pack}@${denied.versions}` : denied.pack;
      return {
        ok: false,
        code: 'SONDE_ERR_PACK_DENIED',
        reason: `denied by policy rule ${what}${denied.reason ? `: ${denied.reason}` : ''}`,
      };
    }
    const pin = pins.find((rule) => names.includes(rule.pack) && semver.eq(rule.version, version));
    if (pin) {
      if (pin.integrity !== integrity) {
        return {
          ok: false,
          code: 'SONDE_ERR_PACK_PIN_MISMATCH',
          reason: `${pin.pack}@${pin.version} is pinned to ${pin.integrity} but this pack is ${integrity}`,
        };
      }
      return { ok: true, via: 'pin', rule: pin };
    }
    const allowed = allow.find(
      (rule) =>
        // A rotated key inherits the rules that named its predecessors by key id, as it inherits their publisher.
        (rule.publisher === undefined ||
          rule.publisher === key.publisher ||
          rule.publisher === key.keyId ||
          key.rotatedFrom.includes(rule.publisher)) &&
        anyNameMatches(rule.pack, names) &&
        inRange(version, rule.versions),
    );
    if (allowed) return { ok: true, via: 'allow', rule: allowed };
    return {
      ok: false,
      code: 'SONDE_ERR_PACK_NOT_ALLOWED',
      reason: `no allow rule or pin covers ${names[0]}@${version} signed by ${key.publisher ?? 'key'} ${key.keyId}`,
    };
  }
}

export function withinWindow(key: Pick<ResolvedKey, 'notBefore' | 'notAfter'>, at: Date): boolean {
  if (key.notBefore !== undefined && at < key.notBefore) return false;
  if (key.notAfter !== undefined && at > key.notAfter) return false;
  return true;
}

export function loadTrust(store: unknown, options: LoadTrustOptions = {}): Trust {
  return new Trust(store, options);
}

/** Reads a trust store file (and optionally a revocation list file) and compiles it. */
export async function loadTrustFile(path: string, options: { revocationsPath?: string } = {}): Promise<Trust> {
  const store = await readJsonFile(path, 'SONDE_ERR_TRUST_INVALID');
  const revocations = options.revocationsPath ? await readJsonFile(options.revocationsPath, 'SONDE_ERR_REVOCATIONS_INVALID') : undefined;
  return new Trust(store, { revocations: revocations as RevocationList | undefined });
}

export async function readJsonFile(
  path: string,
  code: 'SONDE_ERR_TRUST_INVALID' | 'SONDE_ERR_REVOCATIONS_INVALID' | 'SONDE_ERR_INDEX_INVALID',
): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new RegistryError(code, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new RegistryError(code, `${path} is not JSON`);
  }
}
