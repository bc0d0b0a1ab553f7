import { createPrivateKey, createPublicKey, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { SondeError } from '../errors.js';
import { canonicalJson } from './canonical.js';
import { MessageSchemas, type MessagePayload, type MessageType } from './messages.js';
import type { ReplayGuard } from './replay.js';
import { MAX_FRAME_BYTES, PROTOCOL_VERSION } from './version.js';
import { WireAlgorithmSchema, wireAlgorithmOf, type WireAlgorithm } from './wire.js';

export const EnvelopeSchema = z
  .object({
    v: z.number().int(),
    id: z.string().uuid(),
    type: z.string().max(64),
    ts: z.number().int().nonnegative(),
    agentId: z.string().uuid().nullable(),
    payload: z.unknown(),
    /**
     * The signature algorithm, covered by the signature. Absent means
     * rsa-sha256: the form agents and hubs from before Ed25519 send, kept byte
     * for byte so they interoperate. The receiver compares it with the key
     * bound to the sender's identity and refuses a mismatch (no downgrade).
     */
    alg: WireAlgorithmSchema.optional(),
    sig: z.string().max(2048).optional(),
  })
  .strict();

export type Envelope = z.infer<typeof EnvelopeSchema>;
export type UnsignedEnvelope = Omit<Envelope, 'sig'>;

export type SigningKey = KeyObject | string;
export type VerifyKey = KeyObject | string;

function privateKey(key: SigningKey): KeyObject {
  return typeof key === 'string' ? createPrivateKey(key) : key;
}

function publicKey(key: VerifyKey): KeyObject {
  return typeof key === 'string' ? createPublicKey(key) : key;
}

/** The text whose UTF-8 bytes the signature covers: every envelope field except `sig`, canonically encoded. */
function signingText(envelope: UnsignedEnvelope): string {
  const { v, id, type, ts, agentId, payload, alg } = envelope;
  // canonicalJson drops an undefined `alg`: an RSA frame signs exactly the bytes it signed before the field existed.
  return canonicalJson({ v, id, type, ts, agentId, payload, alg });
}

/** Bytes covered by the signature: every envelope field except `sig`, canonically encoded. */
export function signingInput(envelope: UnsignedEnvelope): Buffer {
  return Buffer.from(signingText(envelope), 'utf8');
}

function wireAlgorithm(key: KeyObject): WireAlgorithm {
  const alg = wireAlgorithmOf(key);
  if (!alg) throw new SondeError('SONDE_ERR_BAD_SIGNATURE', `${key.asymmetricKeyType ?? 'unknown'} keys do not sign Sonde messages`);
  return alg;
}

/** Ed25519 signs the message itself; RSA signs its SHA-256 digest. */
const digestFor = (alg: WireAlgorithm): string | null => (alg === 'ed25519' ? null : 'sha256');

export function signEnvelope(envelope: UnsignedEnvelope, key: SigningKey): Envelope {
  const keyObject = privateKey(key);
  const alg = wireAlgorithm(keyObject);
  const unsigned: UnsignedEnvelope = alg === 'ed25519' ? { ...envelope, alg } : envelope;
  const sig = sign(digestFor(alg), signingInput(unsigned), keyObject).toString('base64');
  return { ...unsigned, sig };
}

/** Whether the envelope's algorithm field names the key's algorithm (absent = rsa-sha256). */
export function envelopeAlgorithmMatches(envelope: Pick<Envelope, 'alg'>, key: VerifyKey): boolean {
  return (envelope.alg ?? 'rsa-sha256') === wireAlgorithmOf(publicKey(key));
}

export function verifyEnvelopeSignature(envelope: Envelope, key: VerifyKey): boolean {
  if (!envelope.sig) return false;
  const keyObject = publicKey(key);
  const alg = wireAlgorithmOf(keyObject);
  if (!alg || !envelopeAlgorithmMatches(envelope, keyObject)) return false;
  try {
    return verify(digestFor(alg), signingInput(envelope), keyObject, Buffer.from(envelope.sig, 'base64'));
  } catch {
    return false;
  }
}

export interface CreateMessageOptions {
  agentId: string | null;
  key: SigningKey;
  /** For tests only: a fixed clock. */
  now?: () => number;
  /**
   * Parse the payload with its message schema before signing (the default). `false` is for a payload the sender
   * built itself from values it already holds validated (the agent's register, heartbeat and pack reports): the
   * receiver parses every frame in `decodeMessage` and refuses an invalid one (`SONDE_ERR_BAD_FRAME`), so the
   * sender's parse only moves that error to the sender, at a measured cost (bench/README.md, "Agent start-up").
   * A payload that carries what another party wrote (a probe's result) keeps the check.
   */
  validate?: boolean;
}

/**
 * Builds, validates (unless `validate: false`) and signs one message; returns the frame to send. The payload is serialised once: the frame is
 * the signed canonical JSON itself with `sig` appended (any key order is valid JSON for the receiver, which parses
 * the frame and canonicalises what it parsed to verify).
 */
export function encodeMessage<T extends MessageType>(type: T, payload: MessagePayload<T>, options: CreateMessageOptions): string {
  const parsed = options.validate === false ? payload : MessageSchemas[type].parse(payload);
  const keyObject = privateKey(options.key);
  const alg = wireAlgorithm(keyObject);
  const unsigned: UnsignedEnvelope = {
    v: PROTOCOL_VERSION,
    id: randomUUID(),
    type,
    ts: (options.now ?? Date.now)(),
    agentId: options.agentId,
    payload: parsed,
    // An RSA frame carries no `alg`: byte for byte as before the field existed (signEnvelope does the same).
    ...(alg === 'ed25519' ? { alg } : {}),
  };
  // The canonical text is encoded once for the signature and sent as it is (it was encoded, decoded and encoded again).
  const signed = signingText(unsigned);
  const sig = sign(digestFor(alg), Buffer.from(signed, 'utf8'), keyObject).toString('base64');
  return `${signed.slice(0, -1)},"sig":${JSON.stringify(sig)}}`;
}

export type DecodedMessage = {
  [T in MessageType]: { type: T; payload: MessagePayload<T>; envelope: Envelope };
}[MessageType];

export interface DecodeOptions {
  /** The sender's public key; a missing or wrong signature fails closed. */
  key: VerifyKey;
  replay: ReplayGuard;
  /** When set, the envelope's agentId must equal it (identity bound to the socket). */
  expectAgentId?: string | null;
  now?: () => number;
}

/**
 * Parses and checks one frame: size, shape, protocol version, signature,
 * freshness and replay, agent binding, then the payload schema. Throws a
 * SondeError with a stable code on the first failure; nothing about an
 * unverified frame is trusted.
 */
export function decodeMessage(frame: string | Buffer, options: DecodeOptions): DecodedMessage {
  const size = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
  if (size > MAX_FRAME_BYTES) throw new SondeError('SONDE_ERR_BAD_FRAME', `frame of ${size} bytes exceeds ${MAX_FRAME_BYTES}`);
  let json: unknown;
  try {
    json = JSON.parse(typeof frame === 'string' ? frame : frame.toString('utf8'));
  } catch {
    throw new SondeError('SONDE_ERR_BAD_FRAME', 'frame is not JSON');
  }
  const parsed = EnvelopeSchema.safeParse(json);
  if (!parsed.success) throw new SondeError('SONDE_ERR_BAD_FRAME', `invalid envelope: ${z.prettifyError(parsed.error)}`);
  const envelope = parsed.data;
  if (envelope.v !== PROTOCOL_VERSION) {
    throw new SondeError('SONDE_ERR_PROTOCOL_VERSION', `peer speaks protocol ${envelope.v}, this side speaks ${PROTOCOL_VERSION}`, {
      peer: envelope.v,
      local: PROTOCOL_VERSION,
    });
  }
  if (!envelope.sig) throw new SondeError('SONDE_ERR_UNSIGNED');
  if (!envelopeAlgorithmMatches(envelope, options.key)) {
    // The key bound to the sender decides the algorithm; a frame naming another one is a downgrade attempt or a stale peer.
    const expected = wireAlgorithmOf(publicKey(options.key)) ?? 'none';
    throw new SondeError('SONDE_ERR_BAD_SIGNATURE', `message signed as ${envelope.alg ?? 'rsa-sha256'}; this peer's key is ${expected}`);
  }
  if (!verifyEnvelopeSignature(envelope, options.key)) throw new SondeError('SONDE_ERR_BAD_SIGNATURE');
  options.replay.check(envelope.id, envelope.ts, options.now?.());
  if (options.expectAgentId !== undefined && envelope.agentId !== options.expectAgentId) {
    throw new SondeError('SONDE_ERR_AGENT_MISMATCH', `message claims agent ${envelope.agentId ?? 'none'}`);
  }
  const schema = MessageSchemas[envelope.type as MessageType];
  if (!schema) throw new SondeError('SONDE_ERR_BAD_FRAME', `unknown message type ${envelope.type}`);
  const payload = schema.safeParse(envelope.payload);
  if (!payload.success) throw new SondeError('SONDE_ERR_BAD_FRAME', `invalid ${envelope.type} payload: ${z.prettifyError(payload.error)}`);
  return { type: envelope.type, payload: payload.data, envelope } as DecodedMessage;
}
