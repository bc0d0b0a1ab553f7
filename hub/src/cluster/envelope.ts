import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * Hub-to-hub messages over NATS. Whoever can publish on a hub's subject could
 * otherwise make it sign probe requests to its agents, so every message is
 * sealed with an HMAC-SHA256 keyed from SONDE_SECRET (HKDF `sonde/hub-to-hub-hmac/v1`,
 * crypto/keys.ts) and carries its sender, its addressee, a timestamp and a
 * nonce: `open` refuses a bad MAC, a message for another hub, a stale one and
 * a nonce seen before (replay).
 *
 * Wire form: `<base64url MAC>.<JSON>`; the MAC covers a domain tag and the JSON bytes exactly.
 */

export const CLUSTER_PROTOCOL = 1;
/** How far a message's timestamp may be from this hub's clock (hubs run NTP, as agents must for the agent protocol). */
export const CLUSTER_REPLAY_WINDOW_MS = 30_000;
const DOMAIN = 'sonde-hub-to-hub/v1\n';
const MAC_CHARS = 43;

export const HUB_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const ClusterMessageSchema = z
  .object({
    v: z.literal(CLUSTER_PROTOCOL),
    /** What the body is (`probe`, `holder-alive`, `approve`, `disconnect`, `agents`, `revocations`, `reply`). */
    k: z.string().min(1).max(32),
    from: z.string().regex(HUB_ID_PATTERN),
    /** A hub id, or `*` for a broadcast. */
    to: z.union([z.string().regex(HUB_ID_PATTERN), z.literal('*')]),
    ts: z.number().int(),
    n: z.string().min(16).max(64),
    /** Replies: the nonce of the request they answer (binds a reply to its request). */
    re: z.string().min(16).max(64).optional(),
    b: z.unknown(),
  })
  .strict();

export type ClusterMessage = z.infer<typeof ClusterMessageSchema>;

export class ClusterAuthError extends Error {
  readonly code = 'SONDE_ERR_CLUSTER_AUTH';
  constructor(
    message: string,
    /** Parsed claims when the JSON was readable (for the audit entry); never trusted. */
    readonly claimed?: { from?: unknown; k?: unknown },
  ) {
    super(message);
    this.name = 'ClusterAuthError';
  }
}

function mac(key: Buffer, json: Buffer): Buffer {
  return createHmac('sha256', key).update(DOMAIN).update(json).digest();
}

/** Remembers nonces for twice the replay window; older messages are refused by their timestamp anyway. */
export class NonceCache {
  private current = new Set<string>();
  private previous = new Set<string>();
  private rotatedAt: number;

  constructor(private readonly now: () => number = Date.now) {
    this.rotatedAt = now();
  }

  /** False when the nonce was seen within the window. */
  add(nonce: string): boolean {
    const now = this.now();
    if (now - this.rotatedAt > CLUSTER_REPLAY_WINDOW_MS * 2) {
      this.previous = this.current;
      this.current = new Set();
      this.rotatedAt = now;
    }
    if (this.current.has(nonce) || this.previous.has(nonce)) return false;
    this.current.add(nonce);
    return true;
  }
}

export interface SealOptions {
  key: Buffer;
  from: string;
  now?: () => number;
}

/** Seals one message; returns the bytes to publish and the nonce (replies must name it). */
export function seal(kind: string, to: string, body: unknown, options: SealOptions & { re?: string }): { data: Uint8Array; nonce: string } {
  const nonce = randomUUID();
  const message: ClusterMessage = {
    v: CLUSTER_PROTOCOL,
    k: kind,
    from: options.from,
    to,
    ts: (options.now ?? Date.now)(),
    n: nonce,
    ...(options.re ? { re: options.re } : {}),
    b: body,
  };
  const json = Buffer.from(JSON.stringify(message), 'utf8');
  const tag = Buffer.from(mac(options.key, json).toString('base64url'), 'ascii');
  return { data: Buffer.concat([tag, Buffer.from('.'), json]), nonce };
}

export interface OpenOptions {
  key: Buffer;
  /** This hub's id: a message addressed to another hub is refused. */
  self: string;
  nonces: NonceCache;
  now?: () => number;
  /** Broadcasts (`to: '*'`) are accepted only where the caller says so. */
  broadcast?: boolean;
}

/** Verifies MAC, addressee, freshness and nonce, in that order; throws ClusterAuthError. */
export function open(data: Uint8Array, options: OpenOptions): ClusterMessage {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length < MAC_CHARS + 2 || bytes[MAC_CHARS] !== 0x2e) throw new ClusterAuthError('not a sealed hub message');
  const json = bytes.subarray(MAC_CHARS + 1);
  const given = Buffer.from(bytes.subarray(0, MAC_CHARS).toString('ascii'), 'base64url');
  const expected = mac(options.key, json);
  let claimed: { from?: unknown; k?: unknown } | undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.toString('utf8'));
    if (parsed && typeof parsed === 'object') claimed = { from: (parsed as ClusterMessage).from, k: (parsed as ClusterMessage).k };
  } catch {
    parsed = undefined;
  }
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new ClusterAuthError('bad MAC (not sealed with this deployment’s SONDE_SECRET)', claimed);
  const message = ClusterMessageSchema.safeParse(parsed);
  if (!message.success) throw new ClusterAuthError('malformed hub message', claimed);
  const m = message.data;
  if (m.to === '*' ? !options.broadcast : m.to !== options.self)
    throw new ClusterAuthError(`addressed to ${m.to}, not to this hub`, claimed);
  const skew = Math.abs((options.now ?? Date.now)() - m.ts);
  if (skew > CLUSTER_REPLAY_WINDOW_MS) throw new ClusterAuthError(`stale: ${skew} ms from this hub's clock`, claimed);
  if (!options.nonces.add(m.n)) throw new ClusterAuthError('replayed (nonce seen before)', claimed);
  return m;
}
