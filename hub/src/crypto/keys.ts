import { createHash, hkdfSync, randomBytes, scrypt, scryptSync } from 'node:crypto';
import type { HubStore } from '../store/types.js';

/**
 * scrypt cost: N = 2^15, r = 8 (32 MiB, ~100 ms here), run ONCE at start-up;
 * everything else is derived from its output with HKDF, so each purpose has
 * its own independent key.
 */
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

export interface HubKeys {
  /** Key id stored with every sealed value, so a later rotation can tell keys apart. */
  sealKid: string;
  sealKey: Buffer;
  /** HMAC-SHA256 key for the audit chain. */
  auditKey: Buffer;
  /** HMAC key for MCP client tokens, shared by every hub with the same SONDE_SECRET. */
  mcpSessionKey: Buffer;
  /** Ed25519 seed of the key that signs pack revocation lists (agents pin its public half at enrollment). */
  revocationSeed: Buffer;
  /** HMAC-SHA256 key for hub-to-hub messages over NATS (hub/src/cluster): every hub with the same secret and database. */
  clusterKey: Buffer;
  /** Ed25519 seed of the hub's wire key (signs hub → agent frames; certified by the CA, pinned by agents). */
  wireSeed: Buffer;
}

const SALT_SETTING = 'crypto.salt';

type SaltStore = Pick<HubStore, 'transaction'>;

/** The per-database scrypt salt, created on first use (read-or-insert in one transaction so two processes agree). */
function saltFor(store: SaltStore): Promise<Buffer> {
  return store.transaction(async (tx) => {
    let salt = await tx.settings.get(SALT_SETTING);
    if (!salt) {
      salt = randomBytes(16).toString('base64');
      await tx.settings.set(SALT_SETTING, salt);
    }
    return Buffer.from(salt, 'base64');
  });
}

function hkdf(master: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), info, 32));
}

/** Everything after scrypt: one HKDF key per purpose, then the master is wiped. */
function keysFromMaster(master: Buffer): HubKeys {
  const sealKey = hkdf(master, 'sonde/seal/v1');
  const auditKey = hkdf(master, 'sonde/audit-hmac/v1');
  const mcpSessionKey = hkdf(master, 'sonde/mcp-session/v1');
  const revocationSeed = hkdf(master, 'sonde/revocations-ed25519/v1');
  const clusterKey = hkdf(master, 'sonde/hub-to-hub-hmac/v1');
  const wireSeed = hkdf(master, 'sonde/wire-ed25519/v1');
  // The kid is a fingerprint of the key, not a secret: 8 hex characters.
  const sealKid = createHash('sha256').update(hkdf(master, 'sonde/seal-kid/v1')).digest('hex').slice(0, 8);
  master.fill(0);
  return { sealKid, sealKey, auditKey, mcpSessionKey, revocationSeed, clusterKey, wireSeed };
}

/** scrypt on this thread (the CLI: it has nothing else to do meanwhile). */
export async function deriveKeys(secret: string, store: SaltStore): Promise<HubKeys> {
  return keysFromMaster(scryptSync(secret, await saltFor(store), 32, SCRYPT));
}

/**
 * The same keys, with scrypt on libuv's thread pool: the server starts it first and
 * loads its modules meanwhile, so the ~100 ms of scrypt overlap the imports.
 */
export async function deriveKeysAsync(secret: string, store: SaltStore): Promise<HubKeys> {
  const salt = await saltFor(store);
  const master = await new Promise<Buffer>((resolve, reject) => {
    scrypt(secret, salt, 32, SCRYPT, (error, key) => (error ? reject(error) : resolve(key)));
  });
  return keysFromMaster(master);
}
