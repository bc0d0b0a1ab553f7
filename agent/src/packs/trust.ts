import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  TrustStoreSchema,
  emptyTrustStore,
  loadTrust,
  verifyRevocationList,
  type RevocationList,
  type Trust,
  type TrustStore,
} from '@sonde/registry';
import { z } from 'zod';
import { AgentError } from '../errors.js';
import { writePrivateFile, type HomePaths } from '../home.js';

/**
 * The agent's trust material, all in SONDE_HOME and all offline:
 * - trust.json: a registry trust store (publisher keys, hub and index keys, allow/deny/pins);
 * - revocations.json: the newest hub-signed revocation list (synced from the hub, or imported).
 * No trust file means nothing is trusted: every pack is refused with a reason
 * that says how to trust a key. Packs never carry their own revocations.
 */

export interface TrustFiles {
  store: string;
  revocations: string;
}

export function trustFiles(paths: HomePaths): TrustFiles {
  return { store: path.join(paths.home, 'trust.json'), revocations: path.join(paths.home, 'revocations.json') };
}

/** Trust material as JSON; an unreadable or unparsable file is SONDE_ERR_TRUST_INVALID naming it. */
export function readTrustJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (error) {
    throw new AgentError('SONDE_ERR_TRUST_INVALID', `${file}: ${(error as Error).message}`);
  }
}

export function readTrustStore(paths: HomePaths): TrustStore {
  const { store } = trustFiles(paths);
  if (!existsSync(store)) return emptyTrustStore();
  const parsed = TrustStoreSchema.safeParse(readTrustJson(store));
  if (!parsed.success) throw new AgentError('SONDE_ERR_TRUST_INVALID', `${store}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function writeTrustStore(paths: HomePaths, store: TrustStore): void {
  writePrivateFile(trustFiles(paths).store, `${JSON.stringify(store, null, 2)}\n`);
}

/** The held revocation list, if any. A list that no longer verifies against the hub keys is an error, never ignored. */
export function readRevocations(paths: HomePaths, store: TrustStore = readTrustStore(paths)): RevocationList | undefined {
  const file = trustFiles(paths).revocations;
  if (!existsSync(file)) return undefined;
  const verified = verifyRevocationList(readTrustJson(file), store.hubKeys);
  if (!verified.ok) throw new AgentError('SONDE_ERR_TRUST_INVALID', `${file}: ${verified.reason}`);
  return verified.list;
}

/** Trust store plus revocations, compiled. Throws SONDE_ERR_TRUST_INVALID with the reason. */
export function loadAgentTrust(paths: HomePaths): Trust {
  const store = readTrustStore(paths);
  const revocations = readRevocations(paths, store);
  try {
    return loadTrust(store, revocations ? { revocations } : {});
  } catch (error) {
    throw new AgentError('SONDE_ERR_TRUST_INVALID', (error as Error).message);
  }
}

/**
 * Accepts a newer hub-signed revocation list (from the hub or an operator).
 * Returns false when it is the list already held; refuses an unsigned, foreign
 * or older list, so revocations can never be rolled back.
 */
export function acceptRevocations(paths: HomePaths, incoming: unknown): { changed: boolean; list: RevocationList } {
  const store = readTrustStore(paths);
  if (store.hubKeys.length === 0)
    throw new AgentError(
      'SONDE_ERR_TRUST_INVALID',
      'no hub key in the trust store: add one with sonde trust add-key <hub.pub.json> --role hub',
    );
  const held = readRevocations(paths, store);
  const verified = verifyRevocationList(incoming, store.hubKeys, held ? { current: held } : {});
  if (!verified.ok) throw new AgentError('SONDE_ERR_TRUST_INVALID', verified.reason, { verifyCode: verified.code });
  if (held && held.serial === verified.list.serial) return { changed: false, list: held };
  writePrivateFile(trustFiles(paths).revocations, `${JSON.stringify(verified.list, null, 2)}\n`);
  return { changed: true, list: verified.list };
}
