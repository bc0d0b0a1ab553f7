import { existsSync } from 'node:fs';
import path from 'node:path';
import { verifyPackIndex, type PackIndex } from '@sonde/registry';
import { AgentError } from '../errors.js';
import { writePrivateFile, type HomePaths } from '../home.js';
import { readTrustJson, readTrustStore } from './trust.js';

/**
 * The organisation's signed pack index (SONDE_HOME/pack-index.json): which
 * package versions, with which content integrity, this fleet may install.
 * When one is held, install and update admit only what it lists, update
 * resolves from it instead of from whatever npm offers, and an older index
 * never replaces a newer one.
 */

export function packIndexFile(paths: HomePaths): string {
  return path.join(paths.home, 'pack-index.json');
}

/** The held index, verified again against the index keys of the trust store (a removed key disowns it). */
export function readPackIndex(paths: HomePaths): PackIndex | undefined {
  const file = packIndexFile(paths);
  if (!existsSync(file)) return undefined;
  const verified = verifyPackIndex(readTrustJson(file), readTrustStore(paths).indexKeys);
  if (!verified.ok) throw new AgentError('SONDE_ERR_TRUST_INVALID', `${file}: ${verified.reason}`);
  return verified.index;
}

export function acceptPackIndex(paths: HomePaths, incoming: unknown): { changed: boolean; index: PackIndex } {
  const keys = readTrustStore(paths).indexKeys;
  if (keys.length === 0)
    throw new AgentError(
      'SONDE_ERR_TRUST_INVALID',
      'no index key in the trust store: add one with sonde trust add-key <org.pub.json> --role index',
    );
  const held = readPackIndex(paths);
  const verified = verifyPackIndex(incoming, keys, held ? { current: held } : {});
  if (!verified.ok) throw new AgentError('SONDE_ERR_TRUST_INVALID', verified.reason, { verifyCode: verified.code });
  if (held && held.serial === verified.index.serial) return { changed: false, index: held };
  writePrivateFile(packIndexFile(paths), `${JSON.stringify(verified.index, null, 2)}\n`);
  return { changed: true, index: verified.index };
}

/** Refusal text when the index does not admit this exact content; undefined when it does (or no index is held). */
export function indexRefusal(index: PackIndex | undefined, packageName: string, version: string, integrity: string): string | undefined {
  if (!index) return undefined;
  const entry = (index.packs[packageName] ?? []).find((candidate) => candidate.version === version);
  if (!entry) return `${packageName}@${version} is not in the organisation's pack index (serial ${index.serial})`;
  if (entry.integrity !== integrity)
    return `${packageName}@${version} has content ${integrity}, but the pack index lists ${entry.integrity}`;
  return undefined;
}
