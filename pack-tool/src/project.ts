import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PackManifestSchema, type Pack, type PackManifest } from '@sonde/pack-sdk';
import { z } from 'zod';
import { ToolError } from './output.js';

/** The parts of a pack's package.json the tool reads; anything else is left alone. */
export const PackageJsonSchema = z.looseObject({
  name: z.string(),
  version: z.string(),
  files: z.array(z.string()).optional(),
  main: z.string().optional(),
  sonde: z.object({ manifest: z.string().optional(), entry: z.string().optional() }).optional(),
  dependencies: z.record(z.string(), z.string()).optional(),
  peerDependencies: z.record(z.string(), z.string()).optional(),
  devDependencies: z.record(z.string(), z.string()).optional(),
  bundleDependencies: z.union([z.array(z.string()), z.boolean()]).optional(),
  bundledDependencies: z.union([z.array(z.string()), z.boolean()]).optional(),
});
export type PackageJson = z.infer<typeof PackageJsonSchema>;

export interface Project {
  dir: string;
  packageJson: PackageJson;
  /** The built entry the agent loads: package.json `sonde.entry`, else `main`, else dist/index.js. */
  entry: string;
  manifestFile: string;
}

export const MANIFEST_FILE = 'sonde-pack.json';
/** Where `$schema` points in every written manifest: the SDK ships the JSON Schema. */
export const SCHEMA_REF = './node_modules/@sonde/pack-sdk/schema/sonde-pack.schema.json';

export function loadProject(dir: string): Project {
  const file = path.join(dir, 'package.json');
  if (!existsSync(file))
    throw new ToolError(`${dir} has no package.json`, 'Run sonde-pack inside a pack folder (npm create sonde-pack makes one).');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ToolError(`${file} is not valid JSON: ${(error as Error).message}`, 'Fix the JSON syntax.');
  }
  const parsed = PackageJsonSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ToolError(
      `${file}: ${issue?.path.join('.') || 'root'}: ${issue?.message ?? 'invalid'}`,
      'A pack needs at least "name" and "version".',
    );
  }
  const entry = parsed.data.sonde?.entry ?? parsed.data.main ?? './dist/index.js';
  return {
    dir,
    packageJson: parsed.data,
    entry: path.resolve(dir, entry),
    manifestFile: path.resolve(dir, parsed.data.sonde?.manifest ?? MANIFEST_FILE),
  };
}

/** Imports the built entry (a fresh copy each time, so `dev` sees rebuilds) and checks it default-exports definePack(...). */
export async function loadPack(project: Project): Promise<Pack> {
  if (!existsSync(project.entry))
    throw new ToolError(`${path.relative(project.dir, project.entry)} does not exist: the pack is not built`, 'Run npm run build first.');
  let mod: { default?: unknown };
  try {
    mod = (await import(`${pathToFileURL(project.entry).href}?t=${Date.now()}`)) as { default?: unknown };
  } catch (error) {
    throw new ToolError(
      `loading ${path.relative(project.dir, project.entry)} failed: ${(error as Error).message.split('\n')[0]}`,
      'Fix the error above (definePack validates the definition when the module loads), then rebuild.',
    );
  }
  const pack = mod.default as Partial<Pack> | undefined;
  if (!pack || typeof pack !== 'object' || !pack.manifest || !(pack.probes instanceof Map))
    throw new ToolError(
      `${path.relative(project.dir, project.entry)} must default-export definePack(...)`,
      'Add: export default definePack({ … }).',
    );
  return pack as Pack;
}

/**
 * The manifest document as written to sonde-pack.json: `$schema` first, then
 * the definition's manifest with the version taken from package.json (the
 * one place a version is bumped; signing refuses the two disagreeing).
 */
export function manifestDocument(manifest: PackManifest, packageVersion: string): Record<string, unknown> {
  return { $schema: SCHEMA_REF, ...PackManifestSchema.parse({ ...manifest, version: packageVersion }) };
}

export function serializeManifest(document: Record<string, unknown>): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
