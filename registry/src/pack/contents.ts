import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RegistryError } from '../errors.js';
import { readTar } from './tar.js';

export const SIGNATURE_FILE = 'sonde-signature.json';
export const MANIFEST_FILE = 'sonde-pack.json';
export const PACKAGE_FILE = 'package.json';

/**
 * The files of one package, keyed by relative path with `/` separators, the
 * same whether read from an unpacked folder or straight from a tarball.
 */
export type PackContents = Map<string, Buffer>;

/**
 * Reads every regular file under `dir`. The top-level `node_modules` (the
 * pack's own dependencies, installed later) is the only thing left out, unless
 * `includeNodeModules`: an installed copy written from a verified tarball has
 * nothing unsigned, so there a later `node_modules` is an added file.
 * Symlinks and special files are refused: a signed digest of a link says
 * nothing about what it points to.
 */
export async function readPackDir(dir: string, options: { includeNodeModules?: boolean } = {}): Promise<PackContents> {
  const files: PackContents = new Map();
  async function walk(relative: string): Promise<void> {
    const absolute = relative === '' ? dir : join(dir, relative);
    let names: string[];
    try {
      names = await readdir(absolute);
    } catch (error) {
      throw new RegistryError(
        'SONDE_ERR_PACK_MALFORMED',
        `cannot read ${absolute}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
    // Side by side: verification runs at every load and is bound by file system latency, not hashing.
    await Promise.all(
      names.map(async (name) => {
        const path = relative === '' ? name : `${relative}/${name}`;
        if (path === 'node_modules' && !options.includeNodeModules) return;
        const info = await lstat(join(dir, path));
        if (info.isDirectory()) await walk(path);
        else if (info.isFile()) files.set(path, await readFile(join(dir, path)));
        else throw new RegistryError('SONDE_ERR_PACK_MALFORMED', `${path} is not a regular file (symlinks are refused)`, path);
      }),
    );
  }
  await walk('');
  return files;
}

/**
 * Reads a `.tgz` as produced by `npm pack`, in memory, without unpacking it.
 * Unlike a folder, nothing is left out: a `node_modules` inside a tarball is
 * bundled code the publisher shipped, and one added later would shadow the
 * pack's imports, so it must be signed like any other file.
 */
export async function readPackTarball(path: string): Promise<PackContents> {
  let gzipped: Buffer;
  try {
    gzipped = await readFile(path);
  } catch (error) {
    throw new RegistryError('SONDE_ERR_PACK_MALFORMED', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const files: PackContents = new Map();
  for (const entry of readTar(gzipped).entries) {
    if (entry.type === 'directory') continue;
    if (entry.type !== 'file') throw new RegistryError('SONDE_ERR_PACK_MALFORMED', `${entry.path} is not a regular file`, entry.path);
    if (files.has(entry.path))
      throw new RegistryError('SONDE_ERR_PACK_MALFORMED', `${entry.path} appears twice in the tarball`, entry.path);
    files.set(entry.path, entry.data);
  }
  return files;
}

export function isTarballPath(path: string): boolean {
  return path.endsWith('.tgz') || path.endsWith('.tar.gz');
}
