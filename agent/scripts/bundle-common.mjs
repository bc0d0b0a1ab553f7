// What the agent's two esbuild bundles share (bundle.mjs: the CLI; bundle-pack-process.mjs: what a pack process runs).
import { readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** ES modules for Node 20.19+, split into entries and shared chunks, written by writeBundle (not by esbuild). */
export const NODE_ESM = {
  bundle: true,
  splitting: true,
  chunkNames: 'chunk-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  // Our workspaces from their TypeScript sources (the export condition the tests use).
  conditions: ['sonde-source'],
  // The code V8 holds as source text is smaller without layout; names stay, so a stack trace still reads.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'eof',
  // Bundled CommonJS code requires Node built-ins; a require made from the file's own URL serves them.
  banner: {
    js: "import { createRequire as __sondeCreateRequire } from 'node:module';\nconst require = __sondeCreateRequire(import.meta.url);",
  },
  metafile: true,
  write: false,
  logLevel: 'warning',
};

/**
 * Writes `files` ([path, contents], in the order given: chunks first, entries last) each under a temporary name renamed
 * into place, so a process starting meanwhile (tests build and run in parallel) reads the old build or the new one,
 * never half of one. Files of earlier builds in `outdir` (chunk names carry their content's hash) are removed once
 * they are 10 minutes old.
 */
export function writeBundle(outdir, files) {
  for (const [file, contents] of files) {
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, contents);
    renameSync(temp, file);
  }
  const written = new Set(files.map(([file]) => path.basename(file)));
  for (const name of readdirSync(outdir)) {
    const file = path.join(outdir, name);
    if (!written.has(name) && Date.now() - statSync(file).mtimeMs > 10 * 60_000) rmSync(file, { force: true });
  }
}

/** `z.locales` with `en` only in the agent's bundle, as in the hub's (scripts/esbuild-zod-english-only.mjs). */
export { zodEnglishOnly } from '../../scripts/esbuild-zod-english-only.mjs';
