import type { KeyObject } from 'node:crypto';
import {
  acceptWireKeyOffer,
  certifyWireKey,
  ed25519PrivateKeyFromSeed,
  type WireAlgorithm,
  type WireGrant,
  type WireKeyCert,
  type WireKeyOffer,
} from '@sonde/pack-sdk/protocol';
import { HubError } from '../errors.js';

/**
 * The hub's Ed25519 wire key: it signs hub → agent frames for agents enrolled
 * with Ed25519 (agents enrolled with RSA keep getting frames signed by the CA
 * key). Derived from SONDE_SECRET like the revocation key, so every hub sharing
 * the secret and the database signs alike; certified by the CA in a statement
 * the agent checks against the CA it pins, and pins beside it.
 */
export interface HubWireKey {
  readonly privateKey: KeyObject;
  /** The CA's statement for this key (an RSA signature, made once on first use: enrollment and renewal only). */
  certificate(): WireKeyCert;
}

export function createHubWireKey(seed: Buffer, caPrivateKey: KeyObject): HubWireKey {
  const privateKey = ed25519PrivateKeyFromSeed(seed);
  let cert: WireKeyCert | undefined;
  return { privateKey, certificate: () => (cert ??= certifyWireKey(privateKey, caPrivateKey)) };
}

/**
 * What the hub grants an enrolling or renewing agent: with SONDE_WIRE_SIGNATURE=ed25519 and an agent that
 * offered an Ed25519 key with a valid proof over this CSR, that key (to certify in the agent's certificate) and
 * the hub's certified key; otherwise nothing, and both sides sign with RSA-SHA256.
 */
export function grantWireKey(
  mode: WireAlgorithm,
  offer: WireKeyOffer | undefined,
  csrPem: string,
  hub: HubWireKey,
): { agentKey: KeyObject; grant: WireGrant } | undefined {
  if (mode !== 'ed25519' || !offer) return undefined;
  let agentKey: KeyObject;
  try {
    agentKey = acceptWireKeyOffer(offer, csrPem);
  } catch {
    throw new HubError('SONDE_ERR_CSR_INVALID', 'the Ed25519 wire key proof does not verify over this CSR');
  }
  return { agentKey, grant: { alg: 'ed25519', hubKey: hub.certificate() } };
}
