import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PACK_NAME_PATTERN, PROBE_NAME_PATTERN } from '@sonde/pack-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { PACK_NAME, PROBE_NAME } from '../src/names.js';
import { create, scratch } from './support.js';

/** The real bin, spawned without a terminal: flags, refusals and exit codes. */
const tmp = scratch();
afterAll(() => tmp.cleanup());

describe('create-sonde-pack command line', () => {
  it('--help lists a flag for every prompt and the exit codes', async () => {
    const result = await create(['--help'], tmp.dir);
    expect(result.code).toBe(0);
    for (const flag of ['--template', '--name', '--scope', '--probe', '--yes', '--no-interactive', '--no-install'])
      expect(result.stdout).toContain(flag);
    expect(result.stdout).toMatch(/2 bad command line/);
  });

  it('an unknown option exits 2 and suggests the closest flag', async () => {
    const result = await create(['x', '--templte', 'system'], tmp.dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unknown option');
    expect(result.stderr).toContain('Did you mean --template?');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(path.join(tmp.dir, 'x'))).toBe(false);
  });

  it('an unknown template exits 2 and names both templates', async () => {
    const result = await create(['y', '--template', 'database', '--no-install'], tmp.dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Unknown template[\s\S]*--template system or --template integration/);
  });

  it('refuses a non-empty folder with a title, body and next step, and writes nothing', async () => {
    const dir = path.join(tmp.dir, 'busy');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'notes.txt'), 'mine\n');
    const result = await create(['busy', '--yes', '--no-install'], tmp.dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('✖ Directory is not empty');
    expect(result.stderr).toContain('notes.txt');
    expect(result.stderr).toMatch(/Next: Choose a new folder name/);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
    expect(readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine\n');
  });

  it('refuses an invalid pack name, scope or probe name with exit 2', async () => {
    const badName = await create(['p1', '--name', 'My_Pack', '--yes', '--no-install'], tmp.dir);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('Invalid pack name');
    const badScope = await create(['p2', '--scope', '@Acme Corp', '--yes', '--no-install'], tmp.dir);
    expect(badScope.code).toBe(2);
    expect(badScope.stderr).toContain('Invalid npm scope');
    const badProbe = await create(['p3', '--probe', 'Disk Usage', '--yes', '--no-install'], tmp.dir);
    expect(badProbe.code).toBe(2);
    expect(badProbe.stderr).toContain('Invalid probe name');
    for (const dir of ['p1', 'p2', 'p3']) expect(existsSync(path.join(tmp.dir, dir))).toBe(false);
  });

  it('a folder name that makes no package name needs --name (no terminal to ask)', async () => {
    const result = await create(['2024', '--yes', '--no-install'], tmp.dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Invalid package name');
    expect(result.stderr).toContain('--name');
    const named = await create(['2024', '--name', 'year-pack', '--yes', '--no-install'], tmp.dir);
    expect(named.code, named.stderr).toBe(0);
    expect(JSON.parse(readFileSync(path.join(tmp.dir, '2024/package.json'), 'utf8'))).toMatchObject({ name: 'sonde-pack-year-pack' });
  });

  it('without a directory and without a terminal it exits 2 instead of waiting for input', async () => {
    const result = await create(['--yes'], tmp.dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('No directory given');
  });

  it('writes the common and kind files with the names substituted and nothing left as a placeholder', async () => {
    const result = await create(
      ['net-check', '--template', 'integration', '--scope', 'acme', '--probe', 'api.health', '--no-install'],
      tmp.dir,
    );
    expect(result.code, result.stderr).toBe(0);
    const dir = path.join(tmp.dir, 'net-check');
    const files = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
      .sort();
    expect(files).toEqual(
      expect.arrayContaining([
        '.gitignore',
        '.npmrc',
        'README.md',
        'package.json',
        'src/index.ts',
        'src/parse.ts',
        'src/probe.ts',
        'test/probe.test.ts',
      ]),
    );
    expect(files).not.toContain('_package.json');
    for (const file of files) expect(readFileSync(path.join(dir, file), 'utf8'), file).not.toMatch(/\{\{\w+\}\}/);
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    expect(pkg.name).toBe('@acme/sonde-pack-net-check');
    expect(pkg.peerDependencies).toEqual({ '@sonde/pack-sdk': expect.stringMatching(/^\^\d/), zod: '^4.1.0' });
    expect(Object.keys(pkg.scripts)).toEqual(expect.arrayContaining(['test', 'build', 'lint', 'validate', 'sign', 'dev']));
    expect(readFileSync(path.join(dir, 'src/probe.ts'), 'utf8')).toContain("name: 'api.health'");
    expect(readFileSync(path.join(dir, 'src/index.ts'), 'utf8')).toContain("kind: 'integration'");
    expect(readFileSync(path.join(dir, '.npmrc'), 'utf8')).toContain('@sonde:registry=');
  });

  it('uses the SDK name rules', () => {
    expect(PACK_NAME.source).toBe(PACK_NAME_PATTERN.source);
    expect(PROBE_NAME.source).toBe(PROBE_NAME_PATTERN.source);
  });
});
