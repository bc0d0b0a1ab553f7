import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';

/**
 * The read grant of a pack process is its own folder plus the folders of the
 * packages it depends on, found the way Node resolves them. Node's permission
 * model follows symlinks and hard links out of a granted folder, so every
 * granted tree is checked before the process starts.
 */

interface PackageJson {
  name?: string;
  main?: string;
  exports?: unknown;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

function readPackageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
}

function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : `${parent}${path.sep}`);
}

/** Node's lookup: `<dir>/node_modules/<name>` from `from` upwards, never above `ceiling`. */
function resolvePackageDir(name: string, from: string, ceiling: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', ...name.split('/'));
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === ceiling || !isInside(dir, ceiling)) return undefined;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export interface DependencyTree {
  /** Folders of every package the pack needs, transitively (not the pack itself). */
  dirs: string[];
  /** Where `@sonde/pack-sdk` resolves from the pack, if it does. */
  packSdkDir: string | undefined;
}

/** Every package reachable from the pack's dependencies and peers; `ceiling` is the packs prefix. */
export function dependencyTree(packDir: string, ceiling: string): DependencyTree {
  const seen = new Set<string>([packDir]);
  const queue = [packDir];
  let packSdkDir: string | undefined;
  while (queue.length > 0) {
    const dir = queue.shift()!;
    const pkg = readPackageJson(dir);
    const names = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies });
    for (const name of names) {
      const found = resolvePackageDir(name, dir, ceiling);
      if (!found) continue;
      if (dir === packDir && name === '@sonde/pack-sdk') packSdkDir = found;
      if (seen.has(found)) continue;
      seen.add(found);
      queue.push(found);
    }
  }
  seen.delete(packDir);
  return { dirs: [...seen].sort(), packSdkDir };
}

/** The file `import '<package>'` loads (the `default` or `import` export, else `main`). */
export function packageEntry(dir: string): string {
  const pkg = readPackageJson(dir);
  let target: unknown = pkg.exports;
  if (target && typeof target === 'object' && '.' in target) target = (target as Record<string, unknown>)['.'];
  while (target && typeof target === 'object') {
    const conditions = target as Record<string, unknown>;
    target = conditions.import ?? conditions.default ?? conditions.node;
  }
  const relative = typeof target === 'string' ? target : (pkg.main ?? 'index.js');
  return path.resolve(dir, relative);
}

export interface TreeViolation {
  path: string;
  reason: string;
}

/**
 * Symlinks whose target leaves every granted root, hard-linked files (a hard
 * link to /etc/shadow inside the grant would be readable), sockets, FIFOs and
 * device nodes, and roots that are themselves links. Walks each root in full; a pack tree is a few thousand
 * entries at most.
 */
export function checkGrantedTrees(roots: readonly string[]): TreeViolation[] {
  const violations: TreeViolation[] = [];
  const realRoots: string[] = [];
  for (const root of roots) {
    const info = lstatSync(root);
    if (info.isSymbolicLink()) {
      violations.push({ path: root, reason: 'a granted folder is itself a symlink' });
      continue;
    }
    realRoots.push(root);
  }
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isSymbolicLink()) {
        let target: string;
        try {
          target = realpathSync(full);
        } catch {
          // A dangling link may be pointed somewhere later: refuse it like one that leaves.
          violations.push({ path: full, reason: 'dangling symlink' });
          continue;
        }
        if (!realRoots.some((root) => isInside(target, root)))
          violations.push({ path: full, reason: `symlink to ${target}, outside the pack's read grant` });
      } else if (entry.isDirectory()) {
        walk(full);
      } else if (entry.isSocket() || entry.isFIFO() || entry.isBlockDevice() || entry.isCharacterDevice()) {
        // A read-only bind mount still lets a process connect to a socket (or open a FIFO or device) in it.
        violations.push({ path: full, reason: 'a socket, FIFO or device node (reachable through a read-only grant)' });
      } else if (entry.isFile() && lstatSync(full).nlink > 1) {
        violations.push({ path: full, reason: 'hard-linked file (its other names may lie outside the grant)' });
      }
    }
  };
  for (const root of realRoots) walk(root);
  return violations;
}
