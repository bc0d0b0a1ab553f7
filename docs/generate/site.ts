import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EnvSchema } from '@sonde/hub';
import { renderEnvReference, type EnvGroup } from './env-reference.js';
import { elementSlug, readElements, renderElementIndex, renderElementPage } from './element-reference.js';
import { ERROR_PAGES, renderErrorPage } from './error-pages.js';
import { fetchHubDocuments } from './hub-documents.js';
import { fenced } from './markdown.js';
import { renderMcpToolsReference } from './mcp-reference.js';
import { readBundledPacks, renderGroupsTable, renderPackIndex, renderPackPage } from './pack-reference.js';
import { renderRestReference } from './rest-reference.js';
import { missingCitedPaths, readSecurityRules, renderSecurityTable } from './security-reference.js';

export interface SitePaths {
  /** The repository root. */
  root: string;
  /** `docs/`: the VitePress root (its `.vitepress/config.ts`). */
  docs: string;
  /** Hand-written pages, committed. */
  pages: string;
  /** What VitePress builds from: the pages with their markers expanded, plus the generated reference. Not committed. */
  site: string;
}

export function sitePaths(docs: string): SitePaths {
  return { root: path.resolve(docs, '..'), docs, pages: path.join(docs, 'pages'), site: path.join(docs, 'site') };
}

const INCLUDE = /^<!--\s*@include\s+(\S+)(?:\s+(\w+))?\s*-->$/gm;
const GENERATED = /^<!--\s*@generated\s+([\w-]+)\s*-->$/gm;

/**
 * Hand-written pages may pull in a repository file (`<!-- @include agent/deploy/sonde.service ini -->`) or a generated
 * block (`<!-- @generated security-table -->`), so a page shows the real file and never a copy that drifts. The expansion
 * happens here rather than in VitePress so the per-page Markdown for AI readers carries the same text as the HTML.
 */
export function expandMarkers(text: string, root: string, blocks: Record<string, string>, source: string): string {
  return text
    .replace(INCLUDE, (_m, file: string, lang: string | undefined) => {
      const full = path.join(root, file);
      if (!existsSync(full)) throw new Error(`${source}: @include ${file} does not exist`);
      return fenced(lang ?? '', readFileSync(full, 'utf8'));
    })
    .replace(GENERATED, (_m, name: string) => {
      const block = blocks[name];
      if (block === undefined) throw new Error(`${source}: unknown @generated block ${name}`);
      return block;
    });
}

function markdownFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...markdownFiles(full, base));
    else if (name.endsWith('.md')) out.push(path.relative(base, full));
  }
  return out.sort();
}

function write(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
}

/** The hub's configuration schema (single sign-on variables included: hub/src/identity/config.ts is part of EnvSchema). */
export function envGroups(_root: string): Promise<EnvGroup[]> {
  return Promise.resolve([{ title: 'Hub configuration', schema: EnvSchema }]);
}

/**
 * Whether hub code outside `src/<module>/` imports that module (tests aside): the sign that the hub runs it, so its
 * variables stop being marked as planned the moment it is wired in, without anyone remembering to edit the docs.
 */
export function importedOutside(src: string, module: string): boolean {
  const pattern = new RegExp(`from\\s+['"][./]*(?:\\.\\./)*${module}/`);
  const walk = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return full !== path.join(src, module) && walk(full);
      return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && pattern.test(readFileSync(full, 'utf8'));
    });
  return walk(src);
}

/** Writes docs/site/ from docs/pages/ and the generators. Returns the pages written (relative paths). */
export async function generateSite(paths: SitePaths): Promise<string[]> {
  rmSync(paths.site, { recursive: true, force: true });
  const rules = readSecurityRules(readFileSync(path.join(paths.root, 'ARCHITECTURE.md'), 'utf8'));
  const missing = missingCitedPaths(rules, paths.root);
  if (missing.length) throw new Error(`ARCHITECTURE.md's security table cites paths that do not exist:\n  ${missing.join('\n  ')}`);
  const packs = readBundledPacks(paths.root);
  const blocks = { 'security-table': renderSecurityTable(rules), 'pack-groups': renderGroupsTable(packs) };

  for (const rel of markdownFiles(paths.pages)) {
    const text = readFileSync(path.join(paths.pages, rel), 'utf8');
    write(path.join(paths.site, rel), expandMarkers(text, paths.root, blocks, `docs/pages/${rel}`));
  }
  if (existsSync(path.join(paths.pages, 'public')))
    cpSync(path.join(paths.pages, 'public'), path.join(paths.site, 'public'), { recursive: true });

  const ref = path.join(paths.site, 'reference');
  write(path.join(ref, 'configuration.md'), renderEnvReference(await envGroups(paths.root)));
  write(path.join(ref, 'packs', 'index.md'), renderPackIndex(packs));
  for (const { dir, manifest } of packs) write(path.join(ref, 'packs', `${dir}.md`), renderPackPage(manifest, dir));
  for (const page of ERROR_PAGES) write(path.join(ref, 'errors', page.file), renderErrorPage(paths.docs, page));
  const elements = readElements(paths.root);
  write(path.join(ref, 'elements', 'index.md'), renderElementIndex(elements));
  for (const element of elements) write(path.join(ref, 'elements', `${elementSlug(element)}.md`), renderElementPage(element));

  const hub = await fetchHubDocuments();
  write(path.join(ref, 'rest-api.md'), renderRestReference(hub.openapi));
  write(path.join(ref, 'mcp-tools.md'), renderMcpToolsReference(hub.mcpTools));
  write(path.join(paths.site, 'public', 'openapi.json'), JSON.stringify(hub.openapi, null, 2));
  return markdownFiles(paths.site).filter((p) => !p.startsWith(`public${path.sep}`));
}
