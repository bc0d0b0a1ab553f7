// Build step (after `tsc -b`): bundles the hub's command line, hub/dist/main.js and everything it imports, into
// hub/dist/cli.js plus lazily loaded chunks beside it (hub/dist/chunk-*.js), with source maps.
//
// Why: Node's module loader was about a third of the hub's start-up CPU (resolving, stat-ing, reading and compiling
// ~1,000 files); one entry and a few chunks cost a fraction of that (bench/README.md, "Hub start-up: one bundle").
// `tsc -b` output stays as it is: the tests import it, `@sonde/hub` exports it, and it is what gets bundled (so the
// bundle runs exactly the JavaScript the tests test, and its source maps lead back to the TypeScript through tsc's).
//
// What stays a separate file, loaded by Node as before:
// - native and optional drivers (better-sqlite3, pg) and the packages only an optional feature loads, on first use
//   (single sign-on's openid-client, MCP authorization's oidc-provider, multi-hub's NATS client): bundling them would
//   put code no test runs through the bundle on the way of features that load it lazily anyway;
// - pack-sdk's sandbox child (pack-sdk/dist/sandbox/child.js), audit verify's worker (an inline script that loads the
//   SQLite driver by its resolved path) and the dashboard's files (resolved from @sonde/web-components at run time).
//
// `import.meta.url` in a bundled module would name the chunk, not the module. Every output file is written directly in
// hub/dist, so a hub module's own lookups (`new URL('../package.json', import.meta.url)`, createRequire) are rewritten
// to the URL its tsc output has there; a pack-sdk or registry module's to its file inside that package, found at run
// time the way Node finds the package (pack-sdk's sandbox finds child.js and its own root this way: the pack process's
// read grant stays pack-sdk/dist/sandbox). A bundled third-party module that uses import.meta, __dirname or
// __filename fails the build: it must be made external or handled here.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { zodEnglishOnly } from '../../scripts/esbuild-zod-english-only.mjs';

const HUB_DIR = path.resolve(import.meta.dirname, '..');

/** Loaded by Node from node_modules at run time, never bundled (see above). */
export const EXTERNAL = [
  'better-sqlite3',
  'better-sqlite3-node22',
  'pg',
  'pg-native',
  'oidc-provider',
  'openid-client',
  '@nats-io/*',
  // Fastify's JSON-schema compilers: the hub sets none (app.ts loads them from Fastify's folder if a route ever does).
  '@fastify/ajv-compiler',
  '@fastify/fast-json-stringify-compiler',
];

/** The helper the rewritten modules import: a workspace package's file URL, found from the bundle as Node would. */
const ORIGIN_MODULE = `
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
const roots = new Map();
function rootOf(name) {
  let root = roots.get(name);
  if (root === undefined) {
    let dir = path.dirname(createRequire(import.meta.url).resolve(name));
    while (!existsSync(path.join(dir, 'package.json'))) {
      if (path.dirname(dir) === dir) throw new Error('cannot find the package folder of ' + name);
      dir = path.dirname(dir);
    }
    roots.set(name, (root = dir));
  }
  return root;
}
export function fileUrlIn(name, relative) {
  return pathToFileURL(path.join(rootOf(name), relative)).href;
}
`;

/** The workspace package (name, root) a file belongs to, when it is one of ours. */
function workspacePackageOf(file) {
  for (let dir = path.dirname(file); path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const { name } = JSON.parse(readFileSync(manifest, 'utf8'));
    return name?.startsWith('@sonde/') && !dir.split(path.sep).includes('node_modules') ? { name, root: dir } : undefined;
  }
  return undefined;
}

/**
 * Node's built-in modules imported by ESM syntax (`import { readFileSync } from 'node:fs'`) become `require()` calls.
 * An ESM import of a built-in goes through its ESM facade, which reads every export once at link time and so runs the
 * lazy getters behind them: importing `node:fs` loads fs/promises and the fs streams, `node:crypto` its WebCrypto, and
 * so on. Through `require()` and esbuild's CommonJS interop a named import is read where it is used instead.
 *
 * The built-ins in LAZY_BUILTINS are moreover required on the first read of one of their exports (the hub imports them
 * for features it does not use at start: sandboxes, archives, exports, prompts, worker threads…). Their export names
 * are taken from the Node that builds (the Dockerfile builds and runs on the same Node); each export is a getter (and a
 * setter) reading through to the module. Only modules whose functions do not rely on `this` being the module are in the
 * list: no EventEmitter (`process`, `cluster`, `events`). Dynamic `import('node:…')` is left as it is.
 */
const BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
export const LAZY_BUILTINS = new Set([
  'child_process',
  'dgram',
  'dns',
  'dns/promises',
  'fs/promises',
  'http2',
  'https',
  'readline',
  'readline/promises',
  'stream/promises',
  'timers/promises',
  'tls',
  'v8',
  'worker_threads',
  'zlib',
]);
const builtinsByRequire = {
  name: 'sonde-builtins-by-require',
  setup(build) {
    build.onResolve({ filter: /^[a-z_:/0-9]+$/ }, (args) => {
      if (args.kind !== 'import-statement' || !BUILTINS.has(args.path)) return undefined;
      return { path: args.path.replace(/^node:/, ''), namespace: 'sonde-builtin' };
    });
    build.onLoad({ filter: /.*/, namespace: 'sonde-builtin' }, (args) => {
      const specifier = JSON.stringify(`node:${args.path}`);
      if (!LAZY_BUILTINS.has(args.path)) return { contents: `module.exports = require(${specifier});`, loader: 'js' };
      const names = JSON.stringify(Object.keys(createRequire(import.meta.url)(`node:${args.path}`)));
      const contents =
        `let loaded; const load = () => (loaded ??= require(${specifier}));\n` +
        `for (const name of ${names}) Object.defineProperty(exports, name, { enumerable: true, ` +
        `get: () => load()[name], set: (value) => { load()[name] = value; } });`;
      return { contents, loader: 'js' };
    });
  },
};

/**
 * Third-party modules that require, when they load, what only a feature the hub does not use at start needs: each such
 * `require` becomes one made on the first use of what it returned (a Proxy reading through to the module), so the
 * module and Node's built-ins behind it load only then, if ever. Every statement must still be there: an update of the
 * package that changes one fails the build instead of silently loading it again.
 * - fastify's server.js: node:http2 (an `http2: true` server, never made by the hub) and node:https (SONDE_TLS only).
 * - commander's command.js: node:child_process (executable subcommands; the hub's have none).
 * - ws: node:https and node:tls (client connections: the hub only accepts) and zlib (permessage-deflate, negotiated
 *   per connection).
 * - prom-client's index.js: the Pushgateway client (node:https, zlib) and the cluster aggregator (node:cluster), both
 *   unused by the hub; processCpuTotal.js: @opentelemetry/api, read only for exemplars, which the hub does not enable.
 */
const LAZY_REQUIRES = [
  {
    file: /[\\/]node_modules[\\/]fastify[\\/]lib[\\/]server\.js$/,
    statements: ["const https = require('node:https')", "const http2 = require('node:http2')"],
  },
  { file: /[\\/]node_modules[\\/]commander[\\/]lib[\\/]command\.js$/, statements: ["const childProcess = require('node:child_process');"] },
  {
    file: /[\\/]node_modules[\\/]ws[\\/]lib[\\/]websocket\.js$/,
    statements: ["const https = require('https');", "const tls = require('tls');"],
  },
  { file: /[\\/]node_modules[\\/]ws[\\/]lib[\\/]permessage-deflate\.js$/, statements: ["const zlib = require('zlib');"] },
  {
    file: /[\\/]node_modules[\\/]prom-client[\\/]lib[\\/]metrics[\\/]processCpuTotal\.js$/,
    statements: ["const OtelApi = require('@opentelemetry/api');"],
  },
  {
    file: /[\\/]node_modules[\\/]prom-client[\\/]index\.js$/,
    statements: ["exports.Pushgateway = require('./lib/pushgateway');", "exports.AggregatorRegistry = require('./lib/cluster');"],
  },
];
const STATEMENT = /^(?:const (\w+) = |exports\.(\w+) = )require\(('[^']+')\);?$/;
const lazyRequires = {
  name: 'sonde-lazy-requires',
  setup(build) {
    for (const { file, statements } of LAZY_REQUIRES) {
      build.onLoad({ filter: file }, (args) => {
        let source = readFileSync(args.path, 'utf8');
        for (const statement of statements) {
          const [, local, exported, specifier] = STATEMENT.exec(statement);
          if (!source.includes(statement))
            return { errors: [{ text: `${args.path} no longer has \`${statement}\`: update LAZY_REQUIRES in hub/scripts/bundle.mjs` }] };
          const replacement = local
            ? `let ${local}Loaded; const ${local} = new Proxy({}, { get: (_, key) => (${local}Loaded ??= require(${specifier}))[key] });`
            : `Object.defineProperty(exports, '${exported}', { enumerable: true, get: () => require(${specifier}) });`;
          source = source.replace(statement, replacement);
        }
        return { contents: source, loader: 'js' };
      });
    }
  },
};

const IMPORT_META_URL = /\bimport\.meta\.url\b/g;
const LOCATION_DEPENDENT = /\bimport\.meta\b|\b__dirname\b|\b__filename\b/;

/** Rewrites `import.meta.url` in our modules; refuses third-party modules whose behaviour depends on their location. */
const originPlugin = (hubDir, dist) => ({
  name: 'sonde-origin',
  setup(build) {
    build.onResolve({ filter: /^sonde-bundle:origin$/ }, () => ({ path: 'origin', namespace: 'sonde-bundle' }));
    build.onLoad({ filter: /.*/, namespace: 'sonde-bundle' }, () => ({ contents: ORIGIN_MODULE, loader: 'js', resolveDir: dist }));
    build.onLoad({ filter: /\.[cm]?js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!LOCATION_DEPENDENT.test(source)) return undefined;
      const owner = workspacePackageOf(args.path);
      if (!owner) {
        // A third-party CommonJS module's __dirname and __filename: its own file, where the install left it beside the
        // bundle (pino's transports find their worker files this way; the hub configures none). import.meta in a
        // third-party module is not handled: make that package external.
        const code = source.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|(['"`])(?:\\.|(?!\1)[^\\\n])*\1/g, '');
        if (!LOCATION_DEPENDENT.test(code)) return undefined;
        if (/\bimport\.meta\b/.test(code))
          return { errors: [{ text: `${path.relative(hubDir, args.path)} uses import.meta: make it external in hub/scripts/bundle.mjs` }] };
        const relative = path.relative(dist, args.path).split(path.sep).join('/');
        const prologue =
          `var __filename = require('node:url').fileURLToPath(new URL(${JSON.stringify(relative)}, __sondeBundleUrl));` +
          "var __dirname = require('node:path').dirname(__filename);";
        // After a 'use strict' directive, which must stay first to count.
        const directive = /^(?:\s*(['"])use strict\1;?)?/.exec(source)[0];
        return { contents: `${directive}\n${prologue}${source.slice(directive.length)}`, loader: 'js' };
      }
      if (/\bimport\.meta\.(?!url\b)/.test(source))
        return { errors: [{ text: `${path.relative(hubDir, args.path)}: only import.meta.url is handled by the bundle` }] };
      if (owner.name === '@sonde/hub') {
        // Every output file is directly in hub/dist: this module's own URL, relative to whichever file it ends up in.
        const relative = path.relative(dist, args.path).split(path.sep).join('/');
        return {
          contents: source.replace(IMPORT_META_URL, `new URL(${JSON.stringify(`./${relative}`)}, import.meta.url).href`),
          loader: 'js',
        };
      }
      const relative = path.relative(owner.root, args.path).split(path.sep).join('/');
      const rewritten = source.replace(IMPORT_META_URL, `__sondeFileUrlIn(${JSON.stringify(owner.name)}, ${JSON.stringify(relative)})`);
      return { contents: `import { fileUrlIn as __sondeFileUrlIn } from 'sonde-bundle:origin';\n${rewritten}`, loader: 'js' };
    });
  },
});

function removePreviousOutput(dist) {
  for (const name of readdirSync(dist)) {
    if (/^(chunk-[A-Z0-9]+\.js(\.map)?|cli\.(js|js\.map|d\.ts|d\.ts\.map))$/.test(name)) rmSync(path.join(dist, name));
  }
}

/** Bundles `<hubDir>/dist/main.js` into `<hubDir>/dist/cli.js` and chunks; returns esbuild's result (with its metafile). */
export async function bundleHub({ hubDir = HUB_DIR } = {}) {
  const dist = path.join(hubDir, 'dist');
  const entry = path.join(dist, 'main.js');
  if (!existsSync(entry)) throw new Error(`${path.relative(process.cwd(), entry)} is missing: run \`tsc -b\` first`);
  removePreviousOutput(dist);
  const result = await esbuild.build({
    entryPoints: { cli: entry },
    outdir: dist,
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    external: EXTERNAL,
    // CommonJS packages inside the bundle (Fastify, pino, ws…) call require() for Node's built-ins.
    // __sondeBundleUrl: where this output file is (hub/dist), for the __dirname of bundled CommonJS modules (above).
    banner: {
      js: [
        "import { createRequire as __sondeCreateRequire } from 'node:module';",
        'const require = __sondeCreateRequire(import.meta.url);',
        'const __sondeBundleUrl = import.meta.url;',
      ].join('\n'),
    },
    // As the agent's bundle: no layout or comments for V8 to read, decode and scan at every start (a comment's one
    // non-ASCII character made Node decode a whole chunk as UTF-8 into a two-byte string); names stay, so a stack
    // trace still reads, and the linked source maps lead back to the TypeScript.
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    plugins: [zodEnglishOnly, builtinsByRequire, lazyRequires, originPlugin(hubDir, dist)],
  });
  const outputs = Object.keys(result.metafile.outputs);
  for (const output of outputs) {
    if (path.dirname(path.resolve(output)) !== dist) throw new Error(`bundle output outside hub/dist: ${output}`);
  }
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const at = process.argv.indexOf('--hub-dir');
  const result = await bundleHub(at > 0 ? { hubDir: path.resolve(process.argv[at + 1]) } : {});
  const js = Object.entries(result.metafile.outputs).filter(([name]) => name.endsWith('.js'));
  const bytes = js.reduce((sum, [, output]) => sum + output.bytes, 0);
  console.log(`hub bundle: hub/dist/cli.js + ${js.length - 1} chunks, ${(bytes / 1024 / 1024).toFixed(1)} MiB`);
}
