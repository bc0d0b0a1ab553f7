// Builds dist/ with esbuild (about a second) and checks the bundle budget:
//   dist/sonde.js               every element + Lit, one file, registers on load (`?prefix=` to rename tags)
//   dist/elements/sonde-X.js    one element each, registers only itself; Lit sits in shared chunks
//   dist/index.js, define.js    for bundlers: Lit kept external; index registers nothing
//   dist/index.html             the dashboard page the hub serves at /
//   dist/custom-elements.json   the Custom Elements Manifest (attributes, events, parts, CSS properties)
//   dist/size.json              gzipped sizes; the build fails when sonde.js exceeds the budget
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');
const BUDGET_GZIP = 40 * 1024;
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const versionTs = readFileSync(path.join(root, 'src/version.ts'), 'utf8');
if (!versionTs.includes(`'${pkg.version}'`)) throw new Error(`src/version.ts does not say ${pkg.version} (package.json)`);

const elementEntries = readdirSync(path.join(root, 'src/components'))
  .map((name) => path.join(root, 'src/components', name, `${name}.ts`))
  .filter((file) => statSync(file, { throwIfNoEntry: false })?.isFile());

for (const name of ['elements', 'sonde.js', 'index.js', 'define.js']) rmSync(path.join(dist, name), { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const common = {
  bundle: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
};
const [bundle, elements] = await Promise.all([
  build({
    ...common,
    entryPoints: { sonde: path.join(root, 'src/sonde.ts'), embed: path.join(root, 'src/embed-frame.ts') },
    outdir: dist,
    metafile: true,
  }),
  build({
    ...common,
    entryPoints: Object.fromEntries(elementEntries.map((file) => [`sonde-${path.basename(file, '.ts')}`, file])),
    outdir: path.join(dist, 'elements'),
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    metafile: true,
  }),
  build({
    ...common,
    minify: false,
    entryPoints: { index: path.join(root, 'src/index.ts'), define: path.join(root, 'src/define-all.ts') },
    outdir: dist,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    external: ['lit', 'lit/*', '@lit/context'],
  }),
]);

writeFileSync(
  path.join(dist, 'index.html'),
  `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="color-scheme" content="light dark" />
    <title>Sonde</title>
    <link rel="stylesheet" href="/ui/page.css" />
    <script type="module" src="/ui/sonde.js"></script>
  </head>
  <body>
    <sonde-app></sonde-app>
  </body>
</html>
`,
);
writeFileSync(
  path.join(dist, 'page.css'),
  `html,body{margin:0;min-height:100%;background:#fff}@media (prefers-color-scheme:dark){html,body{background:#15181d}}\n`,
);

// Gzipped sizes: the whole bundle, and each element alone with the chunks it imports.
const gz = (file) => gzipSync(readFileSync(path.join(root, file)), { level: 9 }).length;
const closure = (meta, file, seen = new Set()) => {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const imp of meta.outputs[file]?.imports ?? []) if (imp.kind === 'import-statement') closure(meta, imp.path, seen);
  return seen;
};
const rel = (file) => path.relative(root, path.resolve(process.cwd(), file));
const bundleFile = Object.keys(bundle.metafile.outputs).find((f) => f.endsWith('sonde.js'));
const sizes = { budgetGzip: BUDGET_GZIP, bundle: { file: 'dist/sonde.js', gzip: gz(rel(bundleFile)) }, elements: {} };
for (const [file, out] of Object.entries(elements.metafile.outputs)) {
  if (!out.entryPoint) continue;
  const files = [...closure(elements.metafile, file)];
  sizes.elements[path.basename(file, '.js')] = files.reduce((sum, f) => sum + gz(rel(f)), 0);
}
writeFileSync(path.join(dist, 'size.json'), JSON.stringify(sizes, null, 2) + '\n');

// The manifest is generated from the classes' JSDoc; it runs only when a component changed.
const manifest = path.join(dist, 'custom-elements.json');
const newest = (dir) =>
  Math.max(
    0,
    ...readdirSync(dir, { withFileTypes: true }).map((e) =>
      e.isDirectory() ? newest(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).mtimeMs,
    ),
  );
if ((statSync(manifest, { throwIfNoEntry: false })?.mtimeMs ?? 0) < newest(path.join(root, 'src'))) {
  execFileSync(process.execPath, [path.join(root, 'scripts/manifest.mjs')], { cwd: root, stdio: 'inherit' });
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const badge = sizes.elements['sonde-health-badge'];
console.log(
  `web-components: sonde.js ${kb(sizes.bundle.gzip)} gzip (budget ${kb(BUDGET_GZIP)}); health-badge alone ${kb(badge ?? 0)} gzip`,
);
if (sizes.bundle.gzip > BUDGET_GZIP) {
  console.error(`web-components: dist/sonde.js is ${kb(sizes.bundle.gzip)} gzipped, over the ${kb(BUDGET_GZIP)} budget.`);
  process.exit(1);
}
