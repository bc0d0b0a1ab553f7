import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

/**
 * SHA-256 over a directory tree: sorted relative paths, each with the SHA-256
 * of its content. Renaming, adding or editing any file changes the digest.
 * Symlinks are hashed by their target string, never followed.
 */
export function treeDigest(root: string, skip: (relative: string) => boolean = () => false): string {
  const lines: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const relative = path.relative(root, full).split(path.sep).join('/');
      if (skip(relative)) continue;
      if (entry.isDirectory()) walk(full);
      else if (entry.isSymbolicLink()) lines.push(`${relative}\0link\0${readlinkSync(full)}`);
      else if (entry.isFile()) lines.push(`${relative}\0${createHash('sha256').update(readFileSync(full)).digest('hex')}`);
    }
  };
  walk(root);
  lines.sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

export { permissionsDigest } from '@sonde/pack-sdk';
