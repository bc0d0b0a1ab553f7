import { execFile } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { AgentError } from '../errors.js';
import { preparePacksDir, readPackDir, type InstalledPack } from './store.js';

/**
 * Two ways in, both landing in `<packsDir>/node_modules/<package>`:
 * - a local directory (development): COPIED, never linked, so the approved
 *   code cannot change under the agent; symlinks and node_modules are skipped;
 * - anything else is an npm spec: `npm install --prefix <packsDir>` run with
 *   execFile (argument array, no shell) and `--ignore-scripts`, so installing a
 *   pack never runs its code.
 * Either way the pack starts PENDING until `sonde packs approve`.
 */

export type InstallSource = { kind: 'directory'; dir: string } | { kind: 'npm'; spec: string };

export function classifySource(input: string, cwd = process.cwd()): InstallSource {
  const candidate = path.resolve(cwd, input);
  if ((input.startsWith('.') || input.startsWith('/')) && existsSync(candidate)) {
    if (statSync(candidate).isDirectory()) return { kind: 'directory', dir: candidate };
    // A packed tarball (npm pack) goes through npm like a registry package.
    if (/\.tgz$/.test(candidate)) return { kind: 'npm', spec: candidate };
  }
  if (!/^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*(@[A-Za-z0-9.^~<>=|* -]+)?$/.test(input)) {
    throw new AgentError('SONDE_ERR_PACK_INVALID', `"${input}" is neither a directory nor an npm package name.`);
  }
  return { kind: 'npm', spec: input };
}

function runNpm(args: string[], timeoutMs = 300_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      'npm',
      args,
      { timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024, env: { ...process.env, npm_config_yes: 'false' } },
      (error, stdout, stderr) => {
        if (error)
          reject(new AgentError('SONDE_ERR_PACK_INSTALL_FAILED', `npm ${args[0]}: ${(stderr || error.message).trim().slice(-2000)}`));
        else resolve({ stdout, stderr });
      },
    );
  });
}

const NPM_FLAGS = ['--ignore-scripts', '--no-audit', '--no-fund', '--omit=dev', '--legacy-peer-deps', '--save'];

export async function installPack(packsDir: string, source: InstallSource): Promise<InstalledPack> {
  preparePacksDir(packsDir);
  if (source.kind === 'directory') {
    const probe = readPackDir(source.dir);
    const target = path.join(packsDir, 'node_modules', ...probe.packageName.split('/'));
    rmSync(target, { recursive: true, force: true });
    mkdirSync(path.dirname(target), { recursive: true });
    cpSync(source.dir, target, {
      recursive: true,
      filter: (from) => {
        const rel = path.relative(source.dir, from);
        if (rel.split(path.sep).includes('node_modules') || rel.split(path.sep)[0] === '.git') return false;
        return !lstatSync(from).isSymbolicLink();
      },
    });
    return readPackDir(target);
  }
  // A tarball path does not name the package: read it from the tarball's package.json.
  const name = source.spec.endsWith('.tgz') ? await tarballPackageName(source.spec) : source.spec.replace(/(?!^)@.*$/, '');
  await runNpm(['install', '--prefix', packsDir, ...NPM_FLAGS, source.spec]);
  preparePacksDir(packsDir);
  return readPackDir(path.join(packsDir, 'node_modules', ...name.split('/')));
}

function tarballPackageName(tarball: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('tar', ['-xzOf', tarball, 'package/package.json'], { maxBuffer: 1024 * 1024 }, (error, stdout) => {
      const name = error ? undefined : (JSON.parse(stdout) as { name?: unknown }).name;
      if (typeof name === 'string') resolve(name);
      else reject(new AgentError('SONDE_ERR_PACK_INVALID', `${tarball} is not an npm package tarball.`));
    });
  });
}

export async function updatePacks(packsDir: string, packageName?: string): Promise<void> {
  preparePacksDir(packsDir);
  await runNpm(['update', '--prefix', packsDir, ...NPM_FLAGS, ...(packageName ? [packageName] : [])]);
  preparePacksDir(packsDir);
}

export async function removePack(packsDir: string, pack: InstalledPack): Promise<void> {
  const target = path.join(packsDir, 'node_modules', ...pack.packageName.split('/'));
  const viaNpm = readFileSync(path.join(packsDir, 'package.json'), 'utf8').includes(`"${pack.packageName}"`);
  if (viaNpm)
    await runNpm([
      'uninstall',
      '--prefix',
      packsDir,
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--legacy-peer-deps',
      pack.packageName,
    ]);
  rmSync(target, { recursive: true, force: true });
  preparePacksDir(packsDir);
}
