// Release of the agent itself: a `@sonde/agent` tarball with every production dependency bundled
// inside (bundleDependencies), signed with the release key, so the signature covers every file the
// agent will run and `sonde update` needs no registry beyond the one holding this tarball.
//
//   npm run build && node scripts/release-agent.mjs --key release-key.json --dry-run
//   node scripts/release-agent.mjs --key release-key.json [--version 0.2.0] [--registry URL] [--tag next]
//
// @sonde/pack-sdk and @sonde/registry come from this repository, packed the way
// scripts/release-packages.mjs publishes them; the other dependencies are installed by npm with
// scripts off (from its cache when it has them). Agents trust a release key only for `@sonde/agent`
// (`sonde trust add-key release.pub.json --allow @sonde/agent`).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import semver from 'semver';
import { readKeyFile, readPackTarball, signReleaseTarball } from '@sonde/registry';

const root = path.resolve(import.meta.dirname, '..');

const fail = (message, next) => {
  console.error(`release-agent: ${message}\n  Next: ${next}`);
  process.exit(1);
};

let args;
try {
  args = parseArgs({
    options: {
      key: { type: 'string' },
      version: { type: 'string' },
      out: { type: 'string' },
      registry: { type: 'string' },
      tag: { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
} catch (error) {
  console.error(`release-agent: ${error.message}\n  Next: node scripts/release-agent.mjs --help`);
  process.exit(2);
}
if (args.help) {
  console.log('node scripts/release-agent.mjs --key KEY.json [--version V] [--out DIR] [--dry-run] [--registry URL] [--tag TAG] [--json]');
  process.exit(0);
}
if (!args.key) {
  console.error('release-agent: --key is required (the release signing key file)\n  Next: sonde-registry keygen --out release-key.json');
  process.exit(2);
}
const pkg = JSON.parse(readFileSync(path.join(root, 'agent/package.json'), 'utf8'));
const version = args.version ?? pkg.version;
if (!semver.valid(version)) {
  console.error(`release-agent: --version ${version} is not a semver version\n  Next: e.g. --version 0.2.0`);
  process.exit(2);
}
const key = await readKeyFile(path.resolve(args.key)).catch((error) => fail(`cannot read ${args.key}: ${error.message}`, 'check --key'));

const out = path.resolve(args.out ?? path.join(root, '.release'));
mkdirSync(out, { recursive: true });
const work = mkdtempSync(path.join(os.tmpdir(), 'sonde-agent-release-'));
const quiet = { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] };
try {
  // The SDK and the registry exactly as they are published (cleaned package.json, checked file lists).
  const deps = path.join(work, 'deps');
  execFileSync(process.execPath, [path.join(root, 'scripts/release-packages.mjs'), '--dry-run', '--out', deps], quiet);
  const local = {
    '@sonde/pack-sdk': path.join(deps, `sonde-pack-sdk-${pkg.dependencies['@sonde/pack-sdk']}.tgz`),
    '@sonde/registry': path.join(deps, `sonde-registry-${pkg.dependencies['@sonde/registry']}.tgz`),
  };

  // The bundled build dist/cli.js runs (agent/src/cli.ts), made from the sources as they are now, so the signed
  // release never carries a bundle older than its per-module build (the release has no .tsbuildinfo to compare with).
  execFileSync(process.execPath, [path.join(root, 'agent/scripts/bundle.mjs')], { ...quiet, cwd: root });
  // The agent's own files, as `npm pack` selects them ("files"), written into a staging folder.
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { ...quiet, cwd: path.join(root, 'agent') }),
  );
  const stage = path.join(work, 'stage');
  for (const [file, bytes] of await readPackTarball(path.join(work, packed[0].filename.replace(/^@/, '').replace(/\//g, '-')))) {
    mkdirSync(path.dirname(path.join(stage, file)), { recursive: true });
    writeFileSync(path.join(stage, file), bytes);
  }
  const manifest = (dependencies) => {
    const cleaned = { ...pkg, version, dependencies, bundleDependencies: Object.keys(pkg.dependencies) };
    delete cleaned.devDependencies;
    delete cleaned.private;
    for (const target of Object.values(cleaned.exports ?? {})) if (target && typeof target === 'object') delete target['sonde-source'];
    writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(cleaned, null, 2)}\n`);
  };
  // Installed from the local tarballs, then the manifest names the published versions again.
  manifest({ ...pkg.dependencies, ...Object.fromEntries(Object.entries(local).map(([name, file]) => [name, `file:${file}`])) });
  execFileSync(
    'npm',
    ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock', '--loglevel=error'],
    { ...quiet, cwd: stage },
  );
  manifest(pkg.dependencies);

  const tarball = path.join(out, `sonde-agent-${version}.tgz`);
  rmSync(tarball, { force: true });
  const release = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], { ...quiet, cwd: stage }),
  );
  const signed = await signReleaseTarball(path.join(out, release[0].filename.replace(/^@/, '').replace(/\//g, '-')), key);
  const files = signed.signature.statement.files;
  const bundled = new Set(
    files.filter((file) => file.path.startsWith('node_modules/')).map((file) => file.path.split('/').slice(1, 3).join('/')),
  );
  const missing = Object.keys(pkg.dependencies).filter(
    (name) => ![...bundled].some((entry) => entry === name || entry.startsWith(`${name}/`)),
  );
  if (missing.length) fail(`dependencies not bundled: ${missing.join(', ')}`, 'check npm install output in the staging folder');

  if (!args['dry-run']) {
    const publish = ['publish', tarball, '--access', 'public', '--ignore-scripts'];
    if (args.registry) publish.push('--registry', args.registry);
    if (args.tag) publish.push('--tag', args.tag);
    try {
      execFileSync('npm', publish, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      fail(
        `npm publish @sonde/agent@${version} failed: ${String(error.stderr ?? error.message)
          .trim()
          .split('\n')
          .slice(-3)
          .join(' ')}`,
        'check the registry URL and your login (npm whoami)',
      );
    }
  }
  const result = {
    name: '@sonde/agent',
    version,
    tarball,
    files: files.length,
    keyId: signed.signature.statement.keyId,
    published: !args['dry-run'],
  };
  if (args.json) console.log(JSON.stringify(result));
  else
    console.log(
      `${result.published ? 'published' : 'packed   '} @sonde/agent@${version} (${files.length} files signed, dependencies bundled) ${path.relative(process.cwd(), tarball)}`,
    );
} catch (error) {
  fail(
    String(error.stderr ?? error.message)
      .trim()
      .split('\n')
      .slice(-5)
      .join(' '),
    'run npm run build first; see the message above',
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
