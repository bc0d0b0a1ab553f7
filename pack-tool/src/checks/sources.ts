import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import type { Finding } from '../findings.js';
import type { Project } from '../project.js';

/** Node modules with host effects; a probe reaches the host only through its ProbeContext (the same list as the repository's boundary check). */
export const HOST_EFFECT_MODULES = [
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
  'dns',
  'process',
  'module',
];

const IMPORT =
  /(?:^|\n)[ \t]*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)[ \t]*import\s*['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)/g;
const METHOD = /\bmethod\s*:\s*['"`](PUT|DELETE|PATCH|POST)['"`]/g;
const GLOBAL_EFFECT = /\b(process\.(?:env|binding|dlopen|kill|chdir)|globalThis\.fetch|\bfetch\s*\(|eval\s*\(|new\s+Function\s*\()/g;

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|mts|js|mjs|cjs)$/.test(name) && !/\.(test|spec)\.[cm]?[jt]s$/.test(name) && !name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * Reads the pack's code (src/, or the built entry's folder when there is no
 * src/) for what the host context exists to control: imports with host
 * effects, globals that bypass it, undeclared packages, and requests that write.
 */
export function checkSources(project: Project): Finding[] {
  const srcDir = path.join(project.dir, 'src');
  const root = existsSync(srcDir) ? srcDir : path.dirname(project.entry);
  const pkg = project.packageJson;
  const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
  const findings: Finding[] = [];
  for (const file of sourceFiles(root)) {
    const text = readFileSync(file, 'utf8');
    const relative = path.relative(project.dir, file);
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? match[3] ?? match[4];
      const line = lineOf(text, match.index + (match[0].startsWith('\n') ? 1 : 0));
      const bare = specifier.replace(/^node:/, '');
      if (HOST_EFFECT_MODULES.includes(bare) || bare.startsWith('fs/')) {
        findings.push({
          rule: 'imports/host-effect',
          level: 'error',
          file: relative,
          line,
          message: `imports ${specifier}: pack code reaches the host only through ctx (ctx.exec, ctx.readFile, ctx.listDir, ctx.http), where the declared permissions are enforced; the pack process has no other access`,
        });
        continue;
      }
      if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:') || builtinModules.includes(bare))
        continue;
      const name = packageOf(specifier);
      if (!declared.has(name))
        findings.push({
          rule: 'imports/undeclared',
          level: 'error',
          file: relative,
          line,
          message: `imports ${name}, which is neither a dependency nor a peer dependency: it will not be there when an agent runs the pack`,
        });
    }
    for (const match of text.matchAll(GLOBAL_EFFECT)) {
      findings.push({
        rule: 'imports/host-effect',
        level: 'error',
        file: relative,
        line: lineOf(text, match.index),
        message: `uses ${match[1].replace(/\s*\($/, '(')}: a probe gets its inputs from params and ctx, and reaches the network only through ctx.http`,
      });
    }
    for (const match of text.matchAll(METHOD)) {
      const method = match[1];
      findings.push({
        rule: 'read-only/http-method',
        level: method === 'POST' ? 'warning' : 'error',
        file: relative,
        line: lineOf(text, match.index),
        message:
          method === 'POST'
            ? 'sends a POST: acceptable only for a query or a token request that changes nothing; say so in a comment'
            : `sends a ${method}: probes only read; a request that changes the product does not belong in a pack`,
      });
    }
  }
  return findings;
}
