// Writes dist/custom-elements.json with @custom-elements-manifest/analyzer (its Lit plugin reads
// `static properties`), then puts each registered tag name on its class: the classes are registered
// by `register()`, not by a `customElements.define` call the analyzer could see.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const cli = path.join(path.dirname(require.resolve('@custom-elements-manifest/analyzer/package.json')), 'cem.js');
execFileSync(
  process.execPath,
  [
    cli,
    'analyze',
    '--litelement',
    '--globs',
    'src/components/*/*.component.ts',
    'src/internal/sonde-element.ts',
    '--outdir',
    'dist',
    '--quiet',
  ],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
const file = path.join(root, 'dist/custom-elements.json');
const manifest = JSON.parse(readFileSync(file, 'utf8'));
for (const mod of manifest.modules) {
  if (!mod.path.startsWith('src/components/')) continue;
  const folder = path.basename(path.dirname(mod.path));
  for (const decl of mod.declarations ?? []) {
    if (decl.kind !== 'class') continue;
    decl.tagName = `sonde-${folder}`;
    decl.customElement = true;
  }
}
writeFileSync(file, JSON.stringify(manifest, null, 2) + '\n');
