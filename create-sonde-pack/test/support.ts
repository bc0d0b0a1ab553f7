import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../../test/support/run.js';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(REPO, 'create-sonde-pack/bin/create-sonde-pack.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with no terminal on stdin (execFile pipes), as CI and `npm create` in a script do. */
export function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env, timeout = 120_000): Promise<Run> {
  // In its own process group: a timeout stops npm's children too, not only npm.
  return runCommand(cmd, args, { cwd, env, timeoutMs: timeout });
}

export function create(args: string[], cwd: string): Promise<Run> {
  return run(process.execPath, [BIN, ...args], cwd);
}

export function scratch(prefix = 'create-sonde-pack-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The generated pack's dependencies, without a registry: the repository's own
 * node_modules (the workspace @sonde/pack-sdk and @sonde/pack-tool, zod,
 * vitest, typescript). The published flow is tested in e2e.test.ts.
 */
export function linkRepoModules(packDir: string): void {
  symlinkSync(path.join(REPO, 'node_modules'), path.join(packDir, 'node_modules'));
}
