import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

/** One line per file of a tree digest: its path and the SHA-256 (hex) of its content, or a symlink's target. */
export type TreeEntry = { path: string; sha256: string } | { path: string; link: string };

/** The tree digest of entries already hashed: sorted `path\0sha256` (or `path\0link\0target`) lines. */
export function treeDigestOf(entries: Iterable<TreeEntry>): string {
  const lines: string[] = [];
  for (const entry of entries) lines.push('link' in entry ? `${entry.path}\0link\0${entry.link}` : `${entry.path}\0${entry.sha256}`);
  lines.sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/**
 * SHA-256 over a directory tree: sorted relative paths, each with the SHA-256
 * of its content. Renaming, adding or editing any file changes the digest.
 * Symlinks are hashed by their target string, never followed.
 */
export function treeDigest(root: string, skip: (relative: string) => boolean = () => false): string {
  const entries: TreeEntry[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const relative = path.relative(root, full).split(path.sep).join('/');
      if (skip(relative)) continue;
      if (entry.isDirectory()) walk(full);
      else if (entry.isSymbolicLink()) entries.push({ path: relative, link: readlinkSync(full) });
      else if (entry.isFile()) entries.push({ path: relative, sha256: createHash('sha256').update(readFileSync(full)).digest('hex') });
    }
  };
  walk(root);
  return treeDigestOf(entries);
}

/** What the attestation reports for a pack folder: its tree digest without `node_modules` (the lent host packages). */
export function isPackDependency(relative: string): boolean {
  return relative === 'node_modules' || relative.startsWith('node_modules/');
}

export { permissionsDigest } from '@sonde/pack-sdk';
