import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newKeyFile, publicPart, readKeyFile, writeKeyFile, type KeyFile } from '@sonde/registry';

/** `$XDG_CONFIG_HOME/sonde/publisher.json`, else `~/.config/sonde/publisher.json`: outside every pack folder, so it is never published. */
export function defaultKeyPath(): string {
  const config = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(config, 'sonde', 'publisher.json');
}

export function publicKeyPath(keyPath: string): string {
  return keyPath.replace(/\.json$/, '') + '.pub.json';
}

/**
 * The author's signing key: --key, then SONDE_PUBLISHER_KEY, then the default
 * path. Only the default is made when missing (0600, with its public half
 * beside it): an explicit path that does not exist is a mistake to report.
 */
export async function publisherKey(
  explicit: string | undefined,
  publisher: string,
): Promise<{ key: KeyFile; path: string; created: boolean }> {
  const chosen = explicit ?? process.env.SONDE_PUBLISHER_KEY;
  if (chosen) return { key: await readKeyFile(path.resolve(chosen)), path: path.resolve(chosen), created: false };
  const file = defaultKeyPath();
  if (existsSync(file)) return { key: await readKeyFile(file), path: file, created: false };
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = newKeyFile({ publisher });
  await writeKeyFile(file, key);
  writeFileSync(publicKeyPath(file), `${JSON.stringify(publicPart(key), null, 2)}\n`);
  return { key, path: file, created: true };
}
