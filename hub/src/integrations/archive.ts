import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { readPackDir } from '@sonde/registry';
import { z } from 'zod';

/**
 * An installed version's files as one text value for the database (`integration_pack_files`), so a hub that did not
 * install it can write it into its own packs folder: base64 of gzip'd JSON `{ files: { path: base64 } }`. Nothing in
 * it is trusted: the files are verified again (signature, integrity recorded at install, permissions) before they
 * serve, exactly as an installed copy on this hub's disk is at every load.
 */

const ArchiveSchema = z.object({ files: z.record(z.string().max(1000), z.string()) }).strict();
/** Far above any pack we ship; a larger archive is refused rather than unpacked. */
const MAX_UNPACKED_BYTES = 64 * 1024 * 1024;

export async function archiveDir(dir: string): Promise<string> {
  const files = await readPackDir(dir);
  const json = JSON.stringify({ files: Object.fromEntries([...files].map(([name, bytes]) => [name, bytes.toString('base64')])) });
  return gzipSync(json).toString('base64');
}

/** Writes the archive's files into a fresh temporary folder (the caller installs from it and removes it). */
export function unpackArchive(archive: string): { dir: string; cleanup: () => void } {
  const json = gunzipSync(Buffer.from(archive, 'base64'), { maxOutputLength: MAX_UNPACKED_BYTES }).toString('utf8');
  const { files } = ArchiveSchema.parse(JSON.parse(json));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-pack-archive-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      const target = path.resolve(dir, name);
      // A path that leaves the folder is refused (the archive is read from a database other processes write).
      if (path.relative(dir, target).startsWith('..') || path.isAbsolute(path.relative(dir, target)) || target === dir)
        throw new Error(`archive path ${JSON.stringify(name)} leaves the folder`);
      mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
      writeFileSync(target, Buffer.from(content, 'base64'), { mode: 0o644 });
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
