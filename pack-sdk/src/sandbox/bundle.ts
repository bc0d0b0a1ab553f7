import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * A pack-process bundle: a folder a program (the agent, agent/scripts/bundle-pack-process.mjs) builds with the
 * runner entry (./child.ts) and one module per specifier a pack may import from the host packages (`@sonde/pack-sdk`,
 * `zod`, …), sharing chunks, so each package is one module instance in the pack process. `host-packages.json` in it
 * says which file serves which specifier. The folder is the runner's read grant; vendorHostPackages() makes the
 * packs prefix's host packages re-export these files, so the pack's own imports reach the same instances.
 */
export interface PackProcessBundle {
  /** Real path of the folder. */
  dir: string;
  /** The runner entry, inside `dir`. */
  runner: string;
  /** Package name → its version and, per export subpath, the bundle file that serves it. */
  packages: Record<string, BundledPackage>;
}

/** A plain file name: nothing in a description points outside its folder. */
const FileSchema = z.string().regex(/^[\w.-]+\.js$/, 'a file name inside the bundle folder');

const BundledPackageSchema = z
  .object({
    version: z.string().min(1),
    exports: z.record(
      z.string().regex(/^\.(\/[\w.-]+)*$/, 'an export subpath such as "." or "./v4/core"'),
      z.object({ file: FileSchema, default: z.boolean() }).strict(),
    ),
  })
  .strict();
export type BundledPackage = z.infer<typeof BundledPackageSchema>;

const ManifestSchema = z
  .object({ runner: FileSchema, packages: z.record(z.string().regex(/^(@[\w.-]+\/)?[\w.-]+$/), BundledPackageSchema) })
  .strict();

export const BUNDLE_MANIFEST = 'host-packages.json';

/** Reads a bundle folder's description; throws with the file named when it is missing or malformed. */
export function readPackProcessBundle(dir: string): PackProcessBundle {
  const real = realpathSync(dir);
  const file = path.join(real, BUNDLE_MANIFEST);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: cannot read the pack-process bundle's description (${(error as Error).message})`);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${file}: not a pack-process bundle description (${z.prettifyError(parsed.error)})`);
  if (!parsed.data.packages['@sonde/pack-sdk']?.exports['.'])
    throw new Error(`${file}: the bundle does not serve @sonde/pack-sdk, which every pack imports`);
  return { dir: real, runner: path.join(real, parsed.data.runner), packages: parsed.data.packages };
}
