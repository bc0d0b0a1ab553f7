import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { canonicalJson } from '@sonde/pack-sdk/protocol';
import { z } from 'zod';
import { AgentError } from '../errors.js';
import { readJsonFile, writePrivateFile, type HomePaths } from '../home.js';
import { AgentConfigSchema, type AgentConfig, type AgentConfigInput } from './schema.js';

export function loadConfig(paths: HomePaths): AgentConfig {
  let raw: unknown = {};
  if (existsSync(paths.config)) {
    try {
      raw = readJsonFile(paths.config);
    } catch (error) {
      throw new AgentError('SONDE_ERR_CONFIG_INVALID', `${paths.config} is not JSON (${(error as Error).message}).`);
    }
  }
  const parsed = AgentConfigSchema.safeParse(raw);
  if (!parsed.success) throw new AgentError('SONDE_ERR_CONFIG_INVALID', z.prettifyError(parsed.error));
  return parsed.data;
}

export function saveConfig(paths: HomePaths, config: AgentConfigInput): void {
  writePrivateFile(paths.config, `${JSON.stringify(config, null, 2)}\n`);
}

export function packsDirOf(paths: HomePaths, config: AgentConfig): string {
  return config.packsDir ? path.resolve(paths.home, config.packsDir) : paths.defaultPacksDir;
}

const SECRET_KEY = /secret|key|token|password|credential|private/i;

/** Drops any member whose name looks like a secret, at any depth, before hashing. */
function stripSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([key]) => !SECRET_KEY.test(key))
        .map(([key, inner]) => [key, stripSecrets(inner)]),
    );
  }
  return value;
}

/** Attestation input: the effective config, canonical, secrets stripped. */
export function configDigest(config: AgentConfig): string {
  return createHash('sha256')
    .update(canonicalJson(stripSecrets(config)))
    .digest('hex');
}
