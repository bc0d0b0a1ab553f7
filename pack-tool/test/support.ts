import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../../test/support/run.js';

export const REPO = path.resolve(import.meta.dirname, '../..');
const TOOL = path.join(REPO, 'pack-tool/bin/sonde-pack.js');
const CREATE = path.join(REPO, 'create-sonde-pack/bin/create-sonde-pack.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  // In its own process group: a timeout stops npm's children too, not only npm.
  return runCommand(cmd, args, { cwd, env, timeoutMs: 120_000 });
}

/** The real `sonde-pack` bin. */
export function tool(args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Run> {
  return run(process.execPath, [TOOL, ...args], cwd, env);
}

/**
 * A scaffolded and built pack (create-sonde-pack, the repository's packages as
 * its node_modules), made once; `copy()` gives each test its own folder to break.
 */
export async function builtPack(template: 'system' | 'integration'): Promise<{ copy: (name: string) => string; cleanup: () => void }> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sonde-pack-tool-'));
  const made = await run(process.execPath, [CREATE, 'base', '--template', template, '--name', 'demo', '--yes', '--no-install'], root);
  if (made.code !== 0) throw new Error(made.stderr);
  const base = path.join(root, 'base');
  symlinkSync(path.join(REPO, 'node_modules'), path.join(base, 'node_modules'));
  const built = await run('npm', ['run', 'build'], base);
  if (built.code !== 0) throw new Error(built.stdout + built.stderr);
  return {
    copy(name) {
      const target = path.join(root, name);
      cpSync(base, target, { recursive: true, verbatimSymlinks: true });
      return target;
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
