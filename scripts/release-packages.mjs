// Release: packs and publishes what a pack author installs from npm, in dependency order:
// @sonde/pack-sdk (the contract), @sonde/registry (signing), @sonde/pack-tool (sonde-pack) and
// create-sonde-pack (the scaffolder). They are released in lockstep: one version for all four,
// which the scaffolder writes into new packs as the SDK and tool range.
//
//   npm run build && node scripts/release-packages.mjs --dry-run          # tarballs in .release/, nothing published
//   node scripts/release-packages.mjs [--registry URL] [--tag next] [--provenance]
//
// Each tarball is what `npm pack` makes of the workspace, with package.json cleaned of what only
// works inside this repository (the `sonde-source` export condition points at src/, which is not
// published); the script then checks that every export, bin and `files` entry resolves inside the
// tarball, so a workspace-only path cannot reach the registry.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readPackTarball, replaceTarFile } from '@sonde/registry';

const root = path.resolve(import.meta.dirname, '..');
const PACKAGES = ['pack-sdk', 'registry', 'pack-tool', 'create-sonde-pack'];

let args;
try {
  args = parseArgs({
    options: {
      registry: { type: 'string' },
      out: { type: 'string' },
      tag: { type: 'string' },
      'dry-run': { type: 'boolean' },
      provenance: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
} catch (error) {
  console.error(`release-packages: ${error.message}\n  Next: node scripts/release-packages.mjs --help`);
  process.exit(2);
}
if (args.help) {
  console.log('node scripts/release-packages.mjs [--dry-run] [--out DIR] [--registry URL] [--tag TAG] [--provenance]');
  process.exit(0);
}

const fail = (message, next) => {
  console.error(`release-packages: ${message}\n  Next: ${next}`);
  process.exit(1);
};

/** Drops the `sonde-source` condition from every export (and the export object when that leaves one target). */
function publishedExports(exports) {
  if (!exports || typeof exports !== 'object') return exports;
  return Object.fromEntries(
    Object.entries(exports).map(([key, value]) => {
      if (!value || typeof value !== 'object') return [key, value];
      const rest = { ...value };
      delete rest['sonde-source'];
      return [key, publishedExports(rest)];
    }),
  );
}

function targets(value) {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(targets);
  return [];
}

const manifests = PACKAGES.map((dir) => ({ dir, pkg: JSON.parse(readFileSync(path.join(root, dir, 'package.json'), 'utf8')) }));
const versions = new Set(manifests.map(({ pkg }) => pkg.version));
if (versions.size !== 1)
  fail(
    `versions differ (${manifests.map(({ pkg }) => `${pkg.name}@${pkg.version}`).join(', ')})`,
    'give all four packages the same version',
  );
const [version] = versions;
const names = new Set(manifests.map(({ pkg }) => pkg.name));

const out = path.resolve(args.out ?? path.join(root, '.release'));
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const tarballs = [];
for (const { dir, pkg } of manifests) {
  for (const [dep, range] of Object.entries(pkg.dependencies ?? {}))
    if (names.has(dep) && range !== version) fail(`${pkg.name} depends on ${dep}@${range}, not ${version}`, `set it to "${version}"`);
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], { cwd: path.join(root, dir), encoding: 'utf8' }),
  );
  const tarball = path.join(out, packed[0].filename.replace(/^@/, '').replace(/\//g, '-'));
  const cleaned = { ...pkg, exports: publishedExports(pkg.exports) };
  delete cleaned.private;
  delete cleaned.devDependencies;
  writeFileSync(
    tarball,
    replaceTarFile(readFileSync(tarball), 'package.json', Buffer.from(`${JSON.stringify(cleaned, null, 2)}\n`), new Date()),
  );

  const files = new Set((await readPackTarball(tarball)).keys());
  const wanted = [...targets(cleaned.exports), ...targets(cleaned.bin ?? {})].map((target) => target.replace(/^\.\//, ''));
  const missing = wanted.filter((file) => !files.has(file));
  if (missing.length) fail(`${pkg.name}: ${missing.join(', ')} not in the tarball`, `run npm run build, and list them in "files"`);
  const leaked = [...files]
    .filter((file) => !file.startsWith('templates/'))
    .filter((file) => file.startsWith('src/') || file.endsWith('.tsbuildinfo') || /\.test\.[cm]?[jt]s$/.test(file));
  if (leaked.length) fail(`${pkg.name}: workspace-only files in the tarball: ${leaked.slice(0, 5).join(', ')}`, 'narrow "files"');
  tarballs.push({ name: pkg.name, tarball, files: files.size });
}

for (const { name, tarball, files } of tarballs) {
  if (!args['dry-run']) {
    const publish = ['publish', tarball, '--access', 'public', '--ignore-scripts'];
    if (args.registry) publish.push('--registry', args.registry);
    if (args.tag) publish.push('--tag', args.tag);
    if (args.provenance) publish.push('--provenance');
    try {
      execFileSync('npm', publish, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      fail(
        `npm publish ${name}@${version} failed: ${String(error.stderr ?? error.message)
          .trim()
          .split('\n')
          .slice(-3)
          .join(' ')}`,
        'check the registry URL and your login (npm whoami)',
      );
    }
  }
  console.log(
    `${args['dry-run'] ? 'packed   ' : 'published'} ${name}@${version} (${files} files) ${path.relative(process.cwd(), tarball)}`,
  );
}
