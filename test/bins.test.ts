import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * npm links a workspace's bins into node_modules/.bin during `npm ci`, and
 * skips a bin whose target file does not exist yet. A bin pointing into dist/
 * is therefore never linked in a fresh clone (the build runs after the
 * install), and `npx sonde-hub` then asks the public registry. Each bin must
 * be a file the clone already has, and must run the built CLI.
 */
const REPO = path.resolve(import.meta.dirname, '..');
const BINS = [
  { workspace: 'agent', bin: 'sonde', args: ['--version'], expect: /^\d+\.\d+\.\d+/ },
  { workspace: 'hub', bin: 'sonde-hub', args: ['--help'], expect: /Usage: sonde-hub/ },
  { workspace: 'registry', bin: 'sonde-registry', args: ['help'], expect: /sonde-registry: sign and verify/ },
];
let clone: string;

beforeAll(() => {
  clone = mkdtempSync(path.join(os.tmpdir(), 'sonde-clone-'));
  // What a new user gets: the committed tree at HEAD, no build, no node_modules.
  execFileSync('git', ['clone', '--quiet', '--no-hardlinks', REPO, clone], { stdio: 'pipe' });
});

afterAll(() => {
  if (clone) rmSync(clone, { recursive: true, force: true });
});

describe.each(BINS)('bin $bin', ({ workspace, bin, args, expect: pattern }) => {
  function target(root: string): string {
    const pkg = JSON.parse(readFileSync(path.join(root, workspace, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
    const relative = pkg.bin?.[bin];
    if (!relative) throw new Error(`${workspace}/package.json declares no bin ${bin}`);
    return path.join(root, workspace, relative);
  }

  it('exists in a fresh clone before any build, executable, so npm ci links it', () => {
    const file = target(clone);
    expect(existsSync(file), `${path.relative(clone, file)} is missing from a fresh clone`).toBe(true);
    expect(statSync(file).mode & 0o111).not.toBe(0);
    expect(readFileSync(file, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('says to build first when dist/ is missing, instead of a stack trace', () => {
    const run = spawnSync(process.execPath, [target(clone), ...args], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`${bin}: not built yet. Run \`npm run build\` at the repository root first.\n`);
  });

  it('runs the built CLI through the launcher and through node_modules/.bin', () => {
    const run = spawnSync(process.execPath, [target(REPO), ...args], { encoding: 'utf8', timeout: 30_000 });
    expect(run.stdout + run.stderr).toMatch(pattern);
    const linked = path.join(REPO, 'node_modules/.bin', bin);
    const viaBin = spawnSync(linked, args, { encoding: 'utf8', timeout: 30_000 });
    expect(viaBin.stdout + viaBin.stderr).toMatch(pattern);
  });
});
