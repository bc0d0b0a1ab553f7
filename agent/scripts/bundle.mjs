// Builds agent/dist/sonde/main.js (+ chunks): the whole `sonde` CLI (src/main.ts, @sonde/pack-sdk and @sonde/registry from their
// sources, zod, commander, pino, ws, semver, node-forge, …) as a few ES modules with linked source maps, which
// dist/cli.js runs when they are current (see src/cli.ts). Run by `npm run build` after `tsc -b`, about a second.
//
// Why: at `sonde start` Node's loader resolved, read and compiled ~400 files (~45 % of the CPU to come online). A
// few files keep every module's code but little of that per-file work; modules still evaluate lazily where the sources
// import them lazily (esbuild keeps dynamic imports as deferred initialisers).
//
// What had to move with it (nothing else in the sources depends on where a module file lies):
// - CommonJS packages the sources load with `requireCjs('name')` (src/cjs.ts, kept off Node's ESM export lexer)
//   and registry's `createRequire(import.meta.url)('tweetnacl')` become bundled require() calls, still evaluated on
//   first use; a `require` made from the bundle's own URL serves Node built-ins to the bundled CommonJS code.
// - @sonde/pack-sdk finds its own package (to vendor it into the packs folder and to start `dist/sandbox/child.js`
//   in each pack process) from import.meta.url, or through Node's resolution from here when it is bundled
//   (pack-sdk/src/sandbox/sdk-root.ts): the pack process runs the same file under the same read grant as before.
// - import.meta.resolve (pack detection, the packs store) resolves from dist/, as it did from dist/packs/.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { NODE_ESM, writeBundle, zodEnglishOnly } from './bundle-common.mjs';
import { bundlePackProcess } from './bundle-pack-process.mjs';

const agent = path.resolve(import.meta.dirname, '..');
const outdir = path.join(agent, 'dist/sonde');
const entry = path.join(outdir, 'main.js');

/** The packages src/cjs.ts is asked for today, bundled; any other name is required from node_modules at run time. */
const CJS = ['ws', 'pino', 'semver'];

const requireCalls = {
  name: 'bundled-require',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]agent[\\/]src[\\/]cjs\.ts$/ }, () => ({
      loader: 'js',
      contents: [
        '// Bundled form of src/cjs.ts (agent/scripts/bundle.mjs): each package is a lazily evaluated bundled module.',
        'export function requireCjs(name) {',
        '  switch (name) {',
        ...CJS.map((name) => `    case ${JSON.stringify(name)}: return require(${JSON.stringify(name)});`),
        // A name not listed here still loads, from node_modules beside the bundle (add it to CJS to bundle it).
        '    default: return require(name);',
        '  }',
        '}',
      ].join('\n'),
    }));
    // createRequire(import.meta.url)('pkg') in our own sources: the same package, bundled.
    pluginBuild.onLoad({ filter: /[\\/](registry|pack-sdk)[\\/]src[\\/].*\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const rewritten = source.replace(/createRequire\(import\.meta\.url\)\((['"][^'"]+['"])\)/g, 'require($1)');
      return rewritten === source ? undefined : { loader: 'ts', contents: rewritten };
    });
  },
};

const result = await build({
  ...NODE_ESM,
  entryPoints: { main: path.join(agent, 'src/main.ts') },
  outdir,
  // What only other commands load (enrollment's node-forge, install, update, doctor, the progress bar) stays in
  // chunks of its own, read only when asked for: `sonde start` keeps them out of its memory, as before bundling.
  // The map points at the sources.
  sourcemap: 'linked',
  sourcesContent: false,
  plugins: [requireCalls, zodEnglishOnly],
});
// Chunks and maps first and main.js last (writeBundle).
mkdirSync(outdir, { recursive: true });
const outputs = [...result.outputFiles].sort((a, b) => Number(a.path === entry) - Number(b.path === entry));
writeBundle(
  outdir,
  outputs.map((output) => [output.path, output.contents]),
);
const inputs = Object.keys(result.metafile.inputs).length;
const kib = (file) => Math.round((outputs.find((output) => output.path === file)?.contents.length ?? 0) / 1024);
const code = outputs.filter((output) => output.path.endsWith('.js'));
console.log(
  `agent bundle: ${path.relative(process.cwd(), entry)} + ${code.length - 1} chunks (${inputs} modules; main ${kib(entry)} KiB, ` +
    `${Math.round(code.reduce((sum, output) => sum + output.contents.length, 0) / 1024)} KiB in all)`,
);
// What each sandboxed pack process runs (the runner, pack-sdk and zod), beside it in dist/pack-process/.
await bundlePackProcess();
