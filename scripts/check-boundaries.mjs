// Lint step: the dependency rules between Sonde's parts (see ARCHITECTURE.md).
// pack-sdk imports nothing of ours; packs import only pack-sdk and have no
// direct host effects; agent and hub never import each other or a pack; in the
// hub only hub/src/store/ knows the SQLite store (everything else, tests
// included, is written against the HubStore interface).
// `--root DIR` checks another tree (hub/test/boundaries.test.ts runs it on fixtures).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const rootArg = process.argv.indexOf('--root');
const root = rootArg > 0 ? path.resolve(process.argv[rootArg + 1]) : path.resolve(import.meta.dirname, '..');
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;
const HOST_EFFECTS = [
  'child_process',
  'fs',
  'fs/promises',
  'net',
  'http',
  'https',
  'http2',
  'dgram',
  'tls',
  'worker_threads',
  'cluster',
  'vm',
  'inspector',
];

function files(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...files(full));
    else if (/\.(ts|mts|js|mjs)$/.test(name)) out.push(full);
  }
  return out;
}

const rules = [
  { dir: 'pack-sdk', forbid: (s) => s.startsWith('@sonde/') && !s.startsWith('@sonde/pack-sdk') && 'pack-sdk imports nothing of ours' },
  { dir: 'registry', forbid: (s) => s.startsWith('@sonde/') && !s.startsWith('@sonde/pack-sdk') && 'registry imports only pack-sdk' },
  {
    dir: 'agent',
    forbid: (s, file) =>
      (/^@sonde\/hub/.test(s) || /(^|\/)hub\//.test(s) ? 'agent and hub meet only over the wire' : false) ||
      (/^@sonde\/pack-(?!sdk)/.test(s) && !isTest(file) && 'the agent loads packs at run time after verification, never statically'),
  },
  {
    dir: 'hub',
    forbid: (s, file) =>
      (/^@sonde\/agent/.test(s) || /(^|\/)agent\//.test(s) ? 'agent and hub meet only over the wire' : false) ||
      (/^@sonde\/pack-(?!sdk)/.test(s) &&
        !isTest(file) &&
        'the hub loads integration packs at run time after verification, never statically') ||
      storeBackend(s, file),
  },
  { dir: 'web-components', forbid: (s) => s.startsWith('@sonde/') && 'web components talk to the hub only over its HTTP/WS API' },
  {
    dir: 'pack-tool',
    forbid: (s) =>
      s.startsWith('@sonde/') &&
      !s.startsWith('@sonde/pack-sdk') &&
      !s.startsWith('@sonde/registry') &&
      'the pack tool imports only pack-sdk and registry (it drives agents and hubs as processes)',
  },
  {
    dir: 'create-sonde-pack/src',
    forbid: (s) => s.startsWith('@sonde/') && 'create-sonde-pack depends on nothing, so npm create downloads one small package',
  },
];

// The store seam: SQLite (better-sqlite3, hub/src/store/sqlite/) and PostgreSQL (pg, hub/src/store/postgres/) are
// reached only from hub/src/store/, whose open.ts is the composition root that picks the backend (and testing.ts the
// tests' backdoor); everything else uses the HubStore interface (tests too). hub/src/store/rows/ holds what both
// backends share (row types, row<->record mappers, the schema): it stays backend-neutral, no driver, no backend.
const STORE_DIR = path.join('hub', 'src', 'store') + path.sep;
const ROWS_DIR = path.join('hub', 'src', 'store', 'rows') + path.sep;
function storeBackend(spec, file) {
  const relative = path.relative(root, file);
  if (relative.startsWith(ROWS_DIR)) return rowsNeutral(spec, file);
  if (relative.startsWith(STORE_DIR)) return false;
  if (/^better-sqlite3(-node22)?(\/|$)/.test(spec)) return 'only hub/src/store/ may use the SQLite driver; use the HubStore interface';
  if (/^pg(-[a-z]+)?(\/|$)/.test(spec)) return 'only hub/src/store/ may use the PostgreSQL driver; use the HubStore interface';
  const target = spec.startsWith('.')
    ? path
        .relative(root, path.resolve(path.dirname(file), spec))
        .split(path.sep)
        .join('/')
    : spec;
  if (/(^|\/)store\/sqlite(\/|\.|$)/.test(target))
    return 'only hub/src/store/ may import the SQLite store; use the HubStore interface (store/open.ts opens it)';
  if (/(^|\/)store\/postgres(\/|\.|$)/.test(target))
    return 'only hub/src/store/ may import the PostgreSQL store; use the HubStore interface (store/open.ts opens it, store/testing.ts for test databases)';
  return false;
}
function rowsNeutral(spec, file) {
  const driver = /^(better-sqlite3(-node22)?|pg(-[a-z]+)?)(\/|$)/.test(spec);
  const target = spec.startsWith('.')
    ? path
        .relative(path.join(root, STORE_DIR), path.resolve(path.dirname(file), spec))
        .split(path.sep)
        .join('/')
    : '';
  if (driver || /^(sqlite|postgres)(\/|\.|$)/.test(target))
    return 'hub/src/store/rows/ is shared by every store backend: no database driver and no backend import';
  return false;
}

// Tests may import a pack to read its definition; shipped code never does.
const isTest = (file) => file.endsWith('.test.ts') || file.split(path.sep).includes('test');

const problems = [];
function check(file, forbid) {
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1] ?? match[2] ?? match[3];
    const reason = forbid(spec, file);
    if (reason) problems.push(`${path.relative(root, file)}: imports ${spec} (${reason})`);
  }
}
for (const rule of rules) {
  const dir = path.join(root, rule.dir);
  for (const file of files(dir)) check(file, rule.forbid);
}
// The scaffolder's templates become packs: they follow the same rules.
const listDir = (dir) => (existsSync(dir) ? readdirSync(dir) : []);
const packDirs = [
  ...listDir(path.join(root, 'packs')).map((pack) => path.join(root, 'packs', pack)),
  ...listDir(path.join(root, 'create-sonde-pack/templates')).map((kind) => path.join(root, 'create-sonde-pack/templates', kind)),
];
for (const dir of packDirs) {
  for (const file of files(dir)) {
    const inSrc = file.includes(`${path.sep}src${path.sep}`) && !file.endsWith('.test.ts');
    check(file, (s) => {
      if (s.startsWith('@sonde/') && !s.startsWith('@sonde/pack-sdk')) return 'packs import only pack-sdk';
      if (s.startsWith('.') && !path.resolve(path.dirname(file), s).startsWith(dir + path.sep))
        return 'packs import nothing outside their folder';
      const bare = s.replace(/^node:/, '');
      if (inSrc && HOST_EFFECTS.includes(bare)) return 'pack code reaches the host only through its ProbeContext';
      return false;
    });
  }
}
// No import cycles in the hub (type-only imports included): shared types live in their own module (hub/src/model.ts,
// mcp/types.ts, integrations/types.ts, store/backdoor.ts), so a module never needs one that needs it back.
function resolveImport(file, spec, known) {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(file), spec).replace(/\.js$/, '');
  return [`${base}.ts`, `${base}.mts`, path.join(base, 'index.ts')].find((candidate) => known.has(candidate));
}
function importCycles(dir) {
  const sources = files(dir).filter((file) => !isTest(file) && !file.endsWith('.d.ts'));
  const known = new Set(sources);
  const edges = new Map();
  for (const file of sources) {
    const targets = new Set();
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = resolveImport(file, match[1] ?? match[2] ?? match[3], known);
      if (target) targets.add(target);
    }
    edges.set(file, [...targets]);
  }
  // Tarjan's strongly connected components: every component of more than one module (or a self-import) is a cycle.
  let next = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const cycles = [];
  const visit = (node) => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const target of edges.get(node)) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node), low.get(target)));
      } else if (onStack.has(target)) low.set(node, Math.min(low.get(node), index.get(target)));
    }
    if (low.get(node) !== index.get(node)) return;
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || edges.get(node).includes(node)) cycles.push(component);
  };
  for (const file of sources) if (!index.has(file)) visit(file);
  return cycles.map((component) => component.map((file) => path.relative(root, file).split(path.sep).join('/')).sort());
}
for (const cycle of importCycles(path.join(root, 'hub', 'src'))) {
  problems.push(`import cycle in the hub: ${cycle.join(' <-> ')} (move the shared types into a module of their own)`);
}
if (problems.length) {
  console.error(`Boundary violations (${problems.length}):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('boundaries: ok');
