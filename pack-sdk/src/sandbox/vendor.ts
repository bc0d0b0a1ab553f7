import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BundledPackage, PackProcessBundle } from './bundle.js';
import { BUNDLE_MANIFEST } from './bundle.js';
import { sdkPackageRoot } from './sdk-root.js';
import { packageEntry } from './tree.js';

/**
 * A pack process may read only inside its grant, so the packages the agent
 * lends to packs (`@sonde/pack-sdk` and what it imports) must be real files
 * inside the packs prefix, not symlinks into the agent's own installation:
 * copies of them, or, when the agent runs pack processes from a pack-process
 * bundle, small packages that re-export the bundle's modules. Refreshed when
 * the agent's build differs.
 */

export const HOST_PACKAGES = ['@sonde/pack-sdk', 'zod', 'picomatch'] as const;

/** pack-sdk's own dependencies resolve from where pack-sdk is, as Node would resolve them for it. */
function packageRoot(name: string, sdkRoot: string): string {
  if (name === '@sonde/pack-sdk') return sdkRoot;
  for (let dir = sdkRoot; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', ...name.split('/'));
    if (existsSync(path.join(candidate, 'package.json'))) return realpathSync(candidate);
    if (path.dirname(dir) === dir) throw new Error(`cannot locate the ${name} package beside @sonde/pack-sdk`);
  }
}

const STAMP_FILE = '.sonde-vendored';

/** Version plus the entry's mtime: a rebuilt workspace package keeps its version but must be copied again. */
function stampOf(dir: string): string {
  const version = (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: string }).version;
  return `${version ?? '?'}:${statSync(packageEntry(dir)).mtimeMs}`;
}

function recordedStamp(dir: string): string | undefined {
  try {
    return readFileSync(path.join(dir, STAMP_FILE), 'utf8');
  } catch {
    return undefined;
  }
}

function isLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Type declarations, source maps and TypeScript sources never run; leaving them out keeps a copy small. */
const NOT_RUN = /(\.d\.[cm]?ts|\.map|\.tsbuildinfo)$/;

/** Only what runs: package.json and dist for our workspace package (its sources and tests stay out). */
function keep(name: string, root: string, from: string): boolean {
  const relative = path.relative(root, from);
  if (relative === '') return true;
  const parts = relative.split(path.sep);
  if (parts.includes('node_modules') || isLink(from) || NOT_RUN.test(relative)) return false;
  if (name === '@sonde/pack-sdk') return parts[0] === 'package.json' || parts[0] === 'dist';
  return parts[0] !== 'src';
}

/**
 * A package whose every export subpath is a module re-exporting the bundle's module for it, by file URL: the pack's
 * `import 'zod'` then reaches the very instance the runner and pack-sdk use (one zod, one pack-sdk: `instanceof` and
 * schema identity hold), and no second copy of either is read. The files name the bundle's real path, which a bwrap
 * sandbox binds at the same path.
 */
function writeReexportPackage(target: string, name: string, served: BundledPackage, bundle: PackProcessBundle): void {
  const exports: Record<string, string> = { './package.json': './package.json' };
  for (const [subpath, { file, default: hasDefault }] of Object.entries(served.exports)) {
    const url = JSON.stringify(pathToFileURL(path.join(bundle.dir, file)).href);
    const lines = [
      `// ${name}${subpath.slice(1)}: the pack-process bundle's module (vendorHostPackages), shared with the runner.`,
      `export * from ${url};`,
      ...(hasDefault ? [`export { default } from ${url};`] : []),
    ];
    writeFileSync(path.join(target, file), `${lines.join('\n')}\n`);
    exports[subpath] = `./${file}`;
  }
  const pkg = { name, version: served.version, type: 'module', exports };
  writeFileSync(path.join(target, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
}

/**
 * Makes `<nodeModulesDir>/<host package>` real and current: copies of the agent's own packages, or with `bundle`,
 * packages re-exporting the bundle's modules for each package it serves. Returns the packages it (re)wrote.
 */
export function vendorHostPackages(nodeModulesDir: string, bundle?: PackProcessBundle): string[] {
  if (bundle) return vendorFromBundle(nodeModulesDir, bundle);
  const copied: string[] = [];
  const sdkRoot = sdkPackageRoot();
  for (const name of HOST_PACKAGES) {
    const source = packageRoot(name, sdkRoot);
    const target = path.join(nodeModulesDir, ...name.split('/'));
    const stamp = stampOf(source);
    if (!isLink(target) && recordedStamp(target) === stamp) continue;
    rmSync(target, { recursive: true, force: true });
    mkdirSync(path.dirname(target), { recursive: true });
    cpSync(source, target, { recursive: true, dereference: false, filter: (from) => keep(name, source, from) });
    writeFileSync(path.join(target, STAMP_FILE), stamp);
    copied.push(name);
  }
  return copied;
}

function vendorFromBundle(nodeModulesDir: string, bundle: PackProcessBundle): string[] {
  const written: string[] = [];
  // The description's mtime changes with every build of the bundle; the folder is in the files written.
  const built = statSync(path.join(bundle.dir, BUNDLE_MANIFEST)).mtimeMs;
  for (const [name, served] of Object.entries(bundle.packages)) {
    const target = path.join(nodeModulesDir, ...name.split('/'));
    const stamp = `bundle:${bundle.dir}:${built}:${served.version}`;
    if (!isLink(target) && recordedStamp(target) === stamp) continue;
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
    writeReexportPackage(target, name, served, bundle);
    writeFileSync(path.join(target, STAMP_FILE), stamp);
    written.push(name);
  }
  return written;
}
