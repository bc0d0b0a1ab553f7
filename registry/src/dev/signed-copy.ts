import { cp, mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SigningKey } from '../crypto/keys.js';
import { RegistryError } from '../errors.js';
import { signPackDir, type SignResult } from '../pack/signature.js';

/**
 * For development and tests: copies what `npm publish` would ship of a pack
 * folder (package.json, the `files` it lists, README/LICENSE) to `outDir` and
 * signs the copy. The source folder is never written, so several runs can sign
 * the same checkout with different keys side by side.
 */
export async function signedPackCopy(packDir: string, key: SigningKey, outDir: string): Promise<SignResult & { dir: string }> {
  const pkg = JSON.parse(await readFile(join(packDir, 'package.json'), 'utf8')) as { files?: unknown };
  if (!Array.isArray(pkg.files) || pkg.files.some((entry) => typeof entry !== 'string' || entry.includes('*') || entry.includes('..')))
    throw new RegistryError('SONDE_ERR_SIGN_FAILED', `${packDir}/package.json needs a "files" list of plain paths to make a signed copy`);
  await mkdir(outDir, { recursive: true });
  const entries = ['package.json', ...(pkg.files as string[]), 'README.md', 'LICENSE'];
  for (const entry of new Set(entries.map((name) => name.replace(/^\.\//, '').replace(/\/$/, '')))) {
    const from = join(packDir, entry);
    if (!existsSync(from)) continue;
    await cp(from, join(outDir, entry), {
      recursive: true,
      filter: (source) => !source.endsWith('.tsbuildinfo') && !/\.(test|spec)\.[cm]?js$/.test(source),
    });
  }
  return { ...(await signPackDir(outDir, key)), dir: outDir };
}
