import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { writeKeyFile } from '../src/crypto/keys.js';
import { copyFixture, publisher, tempDir } from './helpers.js';

/**
 * A pack gets @sonde/pack-sdk and zod from the host, so it must declare them
 * as peerDependencies. One that lists them only as devDependencies used to be
 * signed, installed and approved, and then never started. `sign` refuses it
 * now, saying what to change.
 */
const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js');

async function sign(dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const key = join(await tempDir(), 'acme.json');
  await writeKeyFile(key, publisher());
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'sign', dir, '--key', key]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

async function withPackageJson(change: (pkg: Record<string, unknown>) => void): Promise<string> {
  const dir = await copyFixture();
  const file = join(dir, 'package.json');
  const pkg = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  change(pkg);
  await writeFile(file, JSON.stringify(pkg, null, 2));
  return dir;
}

describe('sonde-registry sign and the host-peer contract', () => {
  it('refuses a pack that lists @sonde/pack-sdk and zod only as devDependencies, naming the fix', async () => {
    const dir = await withPackageJson((pkg) => {
      pkg.devDependencies = pkg.peerDependencies;
      delete pkg.peerDependencies;
    });
    const result = await sign(dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('package.json must list @sonde/pack-sdk and zod under "peerDependencies"');
    expect(result.stderr).toContain('add @sonde/pack-sdk to "peerDependencies" (keeping it in "devDependencies" is fine)');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'sonde-signature.json'))).toBe(false);
  });

  it('tells the author to move them out of dependencies', async () => {
    const dir = await withPackageJson((pkg) => {
      pkg.dependencies = { zod: '^4.1.0' };
      pkg.peerDependencies = { '@sonde/pack-sdk': '0.1.0' };
    });
    const result = await sign(dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('move zod from "dependencies" to "peerDependencies"');
    expect(result.stderr).not.toContain('@sonde/pack-sdk to');
  });

  it('signs a pack that declares both as peerDependencies', async () => {
    const dir = await copyFixture();
    const result = await sign(dir);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(existsSync(join(dir, 'sonde-signature.json'))).toBe(true);
  });
});
