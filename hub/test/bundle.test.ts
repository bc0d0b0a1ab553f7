import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';
import { CLI_PATH, REPO_ROOT } from './start-command.js';

const BUNDLE_SCRIPT = path.join(REPO_ROOT, 'hub/scripts/bundle.mjs');
const temp = tempDir();
afterAll(() => temp.cleanup());

function write(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/**
 * A miniature of the repository: a `@sonde/hub` whose dist/main.js is bundled, a workspace package it imports
 * (linked from node_modules, as npm links workspaces) and a third-party CommonJS package.
 */
function fixture(name: string, main: string): string {
  const root = path.join(temp.dir, name);
  write(path.join(root, 'hub/package.json'), JSON.stringify({ name: '@sonde/hub', version: '9.8.7', type: 'module' }));
  write(path.join(root, 'hub/dist/main.js'), main);
  write(
    path.join(root, 'hub/dist/deep/version.js'),
    "import { readFileSync } from 'node:fs';\nexport const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;\n",
  );
  write(
    path.join(root, 'other/package.json'),
    JSON.stringify({ name: '@sonde/other', type: 'module', exports: { '.': './dist/index.js' } }),
  );
  write(path.join(root, 'other/dist/index.js'), 'export const where = import.meta.url;\n');
  mkdirSync(path.join(root, 'node_modules/@sonde'), { recursive: true });
  symlinkSync('../../other', path.join(root, 'node_modules/@sonde/other'));
  write(path.join(root, 'node_modules/third/package.json'), JSON.stringify({ name: 'third', main: 'index.js' }));
  write(
    path.join(root, 'node_modules/third/index.js'),
    "'use strict';\nmodule.exports = { dir: __dirname, file: __filename, strict: (function () { return this === undefined; })() };\n",
  );
  write(path.join(root, 'node_modules/fourth/package.json'), JSON.stringify({ name: 'fourth', type: 'module', main: 'index.js' }));
  write(path.join(root, 'node_modules/fourth/index.js'), 'export const here = import.meta.url;\n');
  return root;
}

function bundle(root: string) {
  return spawnSync(process.execPath, [BUNDLE_SCRIPT, '--hub-dir', path.join(root, 'hub')], { cwd: root, encoding: 'utf8' });
}

describe('the hub bundle (hub/scripts/bundle.mjs)', () => {
  it('keeps every module’s own location: hub files, workspace packages and CommonJS __dirname', () => {
    const root = fixture(
      'locations',
      [
        "import { version } from './deep/version.js';",
        "import third from 'third';",
        "const { where } = await import('@sonde/other');",
        'console.log(JSON.stringify({ version, where, third }));',
      ].join('\n'),
    );
    const built = bundle(root);
    expect(built.stderr).toBe('');
    expect(built.status).toBe(0);
    const outputs = readdirSync(path.join(root, 'hub/dist')).filter((name) => name.endsWith('.js'));
    // The dynamic import became a chunk beside the entry, with source maps for both.
    expect(outputs.some((name) => /^chunk-\w+\.js$/.test(name))).toBe(true);
    expect(readdirSync(path.join(root, 'hub/dist'))).toContain('cli.js.map');
    const ran = JSON.parse(execFileSync(process.execPath, [path.join(root, 'hub/dist/cli.js')], { encoding: 'utf8' })) as {
      version: string;
      where: string;
      third: { dir: string; file: string; strict: boolean };
    };
    expect(ran.version).toBe('9.8.7');
    expect(ran.where).toBe(pathToFileURL(path.join(root, 'other/dist/index.js')).href);
    expect(ran.third).toEqual({
      dir: path.join(root, 'node_modules/third'),
      file: path.join(root, 'node_modules/third/index.js'),
      strict: true,
    });
  });

  it('refuses a third-party module that reads import.meta instead of bundling it somewhere else', () => {
    const root = fixture('refused', "import { here } from 'fourth';\nconsole.log(here);\n");
    const built = bundle(root);
    expect(built.status).not.toBe(0);
    expect(built.stderr).toContain('node_modules/fourth/index.js uses import.meta: make it external');
  });

  it('keeps only zod’s English messages, the locale zod registers itself (the others are ~360 KB read at every start)', () => {
    const root = fixture('zod-locales', "import { z } from 'zod';\nconsole.log(JSON.stringify(Object.keys(z.locales)));\n");
    const zod = path.join(root, 'node_modules/zod');
    write(path.join(zod, 'package.json'), JSON.stringify({ name: 'zod', type: 'module', exports: { '.': './index.js' } }));
    write(path.join(zod, 'index.js'), "export * as z from './v4/classic/external.js';\n");
    write(path.join(zod, 'v4/classic/external.js'), "export * as locales from '../locales/index.js';\n");
    write(path.join(zod, 'v4/locales/index.js'), "export { default as en } from './en.js';\nexport { default as fr } from './fr.js';\n");
    write(path.join(zod, 'v4/locales/en.js'), "export default function en() { return 'Invalid input'; }\n");
    write(path.join(zod, 'v4/locales/fr.js'), "export default function fr() { return 'Entrée invalide'; }\n");
    const built = bundle(root);
    expect(built.stderr).toBe('');
    expect(execFileSync(process.execPath, [path.join(root, 'hub/dist/cli.js')], { encoding: 'utf8' }).trim()).toBe('["en"]');
    const output = readdirSync(path.join(root, 'hub/dist')).filter((name) => name.endsWith('.js'));
    expect(output.map((name) => readFileSync(path.join(root, 'hub/dist', name), 'utf8')).join('')).not.toContain('Entr');
  });

  it('requires Node built-ins imported by ESM syntax where they are used, the LAZY_BUILTINS on first use only', () => {
    const root = fixture(
      'builtins',
      [
        "import { spawnSync } from 'node:child_process';",
        "import zlib from 'node:zlib';",
        "import * as os from 'node:os';",
        "const loaded = () => ['child_process', 'zlib'].filter((name) => process.moduleLoadList.includes(`NativeModule ${name}`));",
        'const before = loaded();',
        "const roundTrip = zlib.gunzipSync(zlib.gzipSync('sonde')).toString();",
        "const ran = spawnSync(process.execPath, ['-e', 'process.stdout.write(`ok`)'], { encoding: 'utf8' }).stdout;",
        'console.log(JSON.stringify({ before, after: loaded(), roundTrip, ran, eol: os.EOL }));',
      ].join('\n'),
    );
    const built = bundle(root);
    expect(built.stderr).toBe('');
    expect(JSON.parse(execFileSync(process.execPath, [path.join(root, 'hub/dist/cli.js')], { encoding: 'utf8' }))).toEqual({
      before: [],
      after: ['child_process', 'zlib'],
      roundTrip: 'sonde',
      ran: 'ok',
      eol: '\n',
    });
  });

  it('is plain ASCII without layout or comments: V8 reads and scans it as one-byte text at every start', () => {
    const files = readdirSync(path.dirname(CLI_PATH)).filter((name) => /^(cli|chunk-\w+)\.js$/.test(name));
    expect(files.length).toBeGreaterThan(5);
    for (const name of files) {
      const text = readFileSync(path.join(path.dirname(CLI_PATH), name), 'utf8');
      expect(/[\u0080-\uffff]/.exec(text)?.[0], `${name} has a non-ASCII character`).toBeUndefined();
      // Without whitespace minification esbuild heads each module with a `// hub/dist/…` comment.
      expect(text, name).not.toMatch(/^\/\/ (hub|pack-sdk|registry|node_modules)\//m);
    }
  });

  it('is what `sonde-hub` runs after the build: one entry that loads chunks, never the tsc output', () => {
    const cli = readFileSync(CLI_PATH, 'utf8');
    expect(cli).toMatch(/^#!\/usr\/bin\/env node\n/);
    expect(cli).toMatch(/import\("\.\/chunk-\w+\.js"\)/);
    expect(cli).not.toContain("import('./program.js')");
    expect(readFileSync(path.join(REPO_ROOT, 'hub/bin/sonde-hub.js'), 'utf8')).toContain("new URL('../dist/cli.js', import.meta.url)");
  });

  it('is not older than the tsc output it was made from (`tsc -b` alone leaves it stale: run `npm run build`)', () => {
    const bundled = statSync(CLI_PATH).mtimeMs;
    const stale = ['hub/dist', 'pack-sdk/dist', 'registry/dist'].flatMap((folder) =>
      readdirSync(path.join(REPO_ROOT, folder), { recursive: true, encoding: 'utf8' })
        .filter((name) => name.endsWith('.js') && !/^(cli|chunk-\w+)\.js$/.test(name))
        .map((name) => path.join(folder, name))
        .filter((file) => statSync(path.join(REPO_ROOT, file)).mtimeMs > bundled),
    );
    expect(stale, 'hub/dist/cli.js is older than these files: run `npm run build`').toEqual([]);
  });
});
