import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sdkPackageRoot } from './sdk-root.js';
import { packageEntry } from './tree.js';

/**
 * A pack process may read only inside its grant, so the packages the agent
 * lends to packs (`@sonde/pack-sdk` and what it imports) must be real copies
 * inside the packs prefix, not symlinks into the agent's own installation.
 * Copies are refreshed when the agent's version differs.
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

/** Makes `<nodeModulesDir>/<host package>` real, current copies; returns the packages it (re)copied. */
export function vendorHostPackages(nodeModulesDir: string): string[] {
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
