// Builds agent/dist/pack-process/: what a sandboxed pack process runs. Run by agent/scripts/bundle.mjs (so by
// `npm run build` and by scripts/release-agent.mjs, whose signature covers every file under dist/), or alone.
//
// - runner.js: pack-sdk's pack-process entry (pack-sdk/src/sandbox/child.ts) with its framing;
// - pack-sdk.js, zod.js, … : one entry per module a pack may import from the host packages, sharing chunks, so
//   pack-sdk, zod and picomatch are each ONE module instance however they are reached;
// - host-packages.json: which entry serves which package specifier (pack-sdk/src/sandbox/bundle.ts reads it).
//
// Why: a pack process spent most of its start loading pack-sdk and zod file by file from the vendored copies (~130
// files: resolve, read, compile each); the same code from a few files costs 35–43 % less CPU and ~2.4 MiB less per
// process (bench/README.md). The pack's own `import '@sonde/pack-sdk'` / `'zod'` still resolve through
// `<packs>/node_modules`; vendorHostPackages() writes there small packages whose modules re-export these entries by
// their file URL, so the pack, the runner and pack-sdk share one zod and one pack-sdk (instanceof and schema identity).
// The folder holds only these files (no links, no maps): it is the pack process's read grant for the runner.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { NODE_ESM, writeBundle } from './bundle-common.mjs';

const agent = path.resolve(import.meta.dirname, '..');
const sdk = path.resolve(agent, '../pack-sdk');
export const PACK_PROCESS_DIR = path.join(agent, 'dist/pack-process');
const MANIFEST = 'host-packages.json';

/**
 * What a pack may import from the host packages (the specifiers packs use, and zod's v4 aliases), each a bundle entry.
 * pack-sdk's ./sandbox (the agent's side) and ./testing (tests) are not offered to pack code.
 */
const EXPOSED = {
  '@sonde/pack-sdk': {
    '.': ['pack-sdk', path.join(sdk, 'src/index.ts')],
    './protocol': ['pack-sdk-protocol', path.join(sdk, 'src/protocol/index.ts')],
    './scrubber': ['pack-sdk-scrubber', path.join(sdk, 'src/scrubber/index.ts')],
  },
  zod: Object.fromEntries(
    ['.', './v4', './v4/core', './mini', './v4/mini'].map((subpath) => [
      subpath,
      [`zod${subpath.slice(1).replaceAll('/', '-')}`, subpath === '.' ? 'zod' : `zod${subpath.slice(1)}`],
    ]),
  ),
};

/** The ESM file Node loads for `specifier` (the `import` condition): the file esbuild also takes for pack-sdk's imports. */
function resolveEsm(specifier) {
  return path.isAbsolute(specifier) ? specifier : fileURLToPath(import.meta.resolve(specifier));
}

function versionOf(name) {
  const file = name === '@sonde/pack-sdk' ? path.join(sdk, 'package.json') : resolveEsm(`${name}/package.json`);
  return JSON.parse(readFileSync(file, 'utf8')).version;
}

/** zod's other languages, in one CommonJS file beside the bundle's modules, read on first use (zodLocalesOnDemand). */
const LOCALES_FILE = 'zod-locales.cjs';

/**
 * zod's `z.locales` namespace holds every language's error messages (~360 KB: ~11 ms of each pack process's start to
 * read and compile, with nothing of it run unless a pack selects a language). Packs may (`z.config(z.locales.de())`),
 * so every name stays, but only English (the locale zod registers itself, from `locales/en.js`) is in the modules a
 * pack process loads: each other name is a function that requires LOCALES_FILE (made from zod's own locales/index.js,
 * inside the bundle folder and so inside the read grant) on its first call and returns what zod's function returns.
 */
const zodLocalesOnDemand = {
  name: 'sonde-zod-locales-on-demand',
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)) return undefined;
      return { path: path.join(path.dirname(args.importer), '..', 'locales', 'index.js'), namespace: 'sonde-zod-locales' };
    });
    build.onResolve({ filter: new RegExp(`^\\./${LOCALES_FILE.replace('.', '\\.')}$`) }, () => ({
      path: `./${LOCALES_FILE}`,
      external: true,
    }));
    build.onLoad({ filter: /.*/, namespace: 'sonde-zod-locales' }, (args) => {
      const names = [...readFileSync(args.path, 'utf8').matchAll(/export \{ default as (\w+) \} from/g)].map((match) => match[1]);
      const lines = [
        `// zod's locales/index.js for the pack-process bundle (agent/scripts/bundle-pack-process.mjs, zodLocalesOnDemand).`,
        "export { default as en } from './en.js';",
        `const all = () => require('./${LOCALES_FILE}');`,
        ...names.filter((name) => name !== 'en').map((name) => `export function ${name}(...args) { return all().${name}(...args); }`),
      ];
      return { contents: lines.join('\n'), loader: 'js', resolveDir: path.dirname(args.path) };
    });
  },
};

export async function bundlePackProcess({ outdir = PACK_PROCESS_DIR, quiet = false } = {}) {
  const entryPoints = { runner: path.join(sdk, 'src/sandbox/child.ts') };
  for (const subpaths of Object.values(EXPOSED))
    for (const [file, source] of Object.values(subpaths)) entryPoints[file] = resolveEsm(source);
  const result = await build({ ...NODE_ESM, entryPoints, outdir, plugins: [zodLocalesOnDemand] });
  const locales = await build({
    ...NODE_ESM,
    splitting: false,
    format: 'cjs',
    banner: {},
    entryPoints: [path.join(path.dirname(resolveEsm('zod/v4/core')), '..', 'locales', 'index.js')],
    outfile: path.join(outdir, LOCALES_FILE),
  });
  const exportsOf = (file) => result.metafile.outputs[path.relative(process.cwd(), path.join(outdir, `${file}.js`))]?.exports ?? [];
  const manifest = {
    runner: 'runner.js',
    packages: Object.fromEntries(
      Object.entries(EXPOSED).map(([name, subpaths]) => [
        name,
        {
          version: versionOf(name),
          exports: Object.fromEntries(
            Object.entries(subpaths).map(([subpath, [file]]) => [
              subpath,
              { file: `${file}.js`, default: exportsOf(file).includes('default') },
            ]),
          ),
        },
      ]),
    ),
  };
  // Chunks first, entries next, the description last (writeBundle): a pack process starting meanwhile reads one build.
  mkdirSync(outdir, { recursive: true });
  const isEntry = (output) => Object.keys(entryPoints).some((name) => output.path === path.join(outdir, `${name}.js`));
  const outputs = [...result.outputFiles].sort((a, b) => Number(isEntry(a)) - Number(isEntry(b)));
  writeBundle(outdir, [
    ...locales.outputFiles.map((output) => [output.path, output.contents]),
    ...outputs.map((output) => [output.path, output.contents]),
    [path.join(outdir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`],
  ]);
  const kib = Math.round(outputs.reduce((sum, output) => sum + output.contents.length, 0) / 1024);
  if (!quiet)
    console.log(
      `pack-process bundle: ${path.relative(process.cwd(), outdir)} (${Object.keys(entryPoints).length} entries, ` +
        `${outputs.length} files, ${Object.keys(result.metafile.inputs).length} modules, ${kib} KiB)`,
    );
  return manifest;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bundlePackProcess();
