import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvSchema } from '@sonde/hub';
import { anchor, escapeForVitePress } from '../generate/markdown.js';
import { missingCitedPaths, readSecurityRules } from '../generate/security-reference.js';
import { readBundledPacks } from '../generate/pack-reference.js';
import { elementSlug, readElements } from '../generate/element-reference.js';
import { envGroups, generateSite, sitePaths, type SitePaths } from '../generate/site.js';

// The generated pages, written once into a temporary folder exactly as `npm run docs` writes docs/site/.
const docs = path.resolve(import.meta.dirname, '..');
const root = path.resolve(docs, '..');
let paths: SitePaths;
let pages: string[];
const page = (rel: string): string => readFileSync(path.join(paths.site, rel), 'utf8');

beforeAll(async () => {
  paths = { ...sitePaths(docs), site: mkdtempSync(path.join(tmpdir(), 'sonde-docs-site-')) };
  pages = await generateSite(paths);
});
afterAll(() => rmSync(paths.site, { recursive: true, force: true }));

describe('packs and probes reference', () => {
  const packDirs = readdirSync(path.join(root, 'packs')).filter((d) => existsSync(path.join(root, 'packs', d, 'package.json')));

  it('has a page for every bundled pack, listed on the index', () => {
    expect(packDirs.length).toBeGreaterThan(0);
    const index = page('reference/packs/index.md');
    for (const dir of packDirs) {
      expect(pages).toContain(path.join('reference', 'packs', `${dir}.md`));
      expect(index).toContain(`](./${dir})`);
    }
  });

  it('documents every probe of every bundled pack with its parameters and result', () => {
    let probes = 0;
    for (const { dir, manifest } of readBundledPacks(root)) {
      const text = page(`reference/packs/${dir}.md`);
      for (const probe of manifest.probes) {
        probes++;
        expect(text, `${manifest.name}.${probe.name}`).toContain(`### ${probe.name} {#${anchor(probe.name)}}`);
        const section = text.slice(text.indexOf(`### ${probe.name} {#`));
        for (const param of Object.keys((probe.params as { properties?: object }).properties ?? {}))
          expect(section, `${manifest.name}.${probe.name} param ${param}`).toContain(`\`${param}\``);
        for (const field of Object.keys((probe.result as { properties?: object }).properties ?? {}))
          expect(section, `${manifest.name}.${probe.name} result field ${field}`).toContain(`\`${field}\``);
      }
    }
    expect(probes).toBeGreaterThan(50);
  });
});

describe('agent install guide', () => {
  it('lists every group a bundled system pack declares, with the packs that need it', () => {
    const text = page('guide/agent-install.md');
    for (const { dir, manifest } of readBundledPacks(root))
      for (const group of manifest.permissions.groups ?? [])
        expect(text).toMatch(new RegExp(`\\| \`${group}\` \\| [^\\n]*\\[${manifest.name}\\]\\(/reference/packs/${dir}\\)`));
  });
});

describe('hub configuration reference', () => {
  it('documents every variable of the hub config schema', () => {
    const text = page('reference/configuration.md');
    for (const name of Object.keys(EnvSchema.shape)) expect(text, name).toContain(`## ${name} {#${anchor(name)}}`);
  });

  it('marks variables of code the hub does not run yet as planned', async () => {
    const text = page('reference/configuration.md');
    for (const group of (await envGroups(root)).filter((g) => g.planned)) {
      const section = text.slice(text.indexOf(`# ${group.title} {#`));
      expect(section).toMatch(/^# [^\n]+\n\n::: warning Planned/);
      for (const name of Object.keys(group.schema.shape)) expect(section, name).toContain(`## ${name} {#${anchor(name)}}`);
    }
  });

  it('every SONDE_* variable in the hub source is in a documented schema (and so on the page)', async () => {
    const inSchema = new Set((await envGroups(root)).flatMap((g) => Object.keys(g.schema.shape)));
    const used = new Set<string>();
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
          for (const m of readFileSync(full, 'utf8').matchAll(/\bSONDE_[A-Z0-9_]+\b/g)) used.add(m[0]);
      }
    };
    walk(path.join(root, 'hub/src'));
    // Error codes share the prefix; names ending in _ are prefixes in comments (SONDE_, SONDE_OIDC_).
    const variables = [...used].filter((v) => !v.startsWith('SONDE_ERR_') && !v.endsWith('_'));
    expect(variables.length).toBeGreaterThan(5);
    expect(variables.filter((v) => !inSchema.has(v))).toEqual([]);
  });
});

describe('REST and MCP reference from a running hub', () => {
  it('lists every operation of the OpenAPI document the hub serves', () => {
    const doc = JSON.parse(page('public/openapi.json')) as { paths: Record<string, Record<string, unknown>> };
    const text = page('reference/rest-api.md');
    let operations = 0;
    for (const [p, ops] of Object.entries(doc.paths))
      for (const method of Object.keys(ops)) {
        operations++;
        expect(text).toContain(`### ${method.toUpperCase()} ${p} {#`);
      }
    expect(operations).toBeGreaterThan(20);
  });

  it('lists the MCP tools a hub serves, each with its arguments', () => {
    const text = page('reference/mcp-tools.md');
    for (const tool of ['health_check', 'list_capabilities', 'list_agents', 'agent_overview', 'probe', 'diagnose', 'query_logs'])
      expect(text).toContain(`## ${tool} {#${anchor(tool)}}`);
  });
});

describe('security model page', () => {
  it('carries every row of ARCHITECTURE.md’s enforcement table, and every path a row cites exists', () => {
    const rules = readSecurityRules(readFileSync(path.join(root, 'ARCHITECTURE.md'), 'utf8'));
    expect(rules.length).toBeGreaterThan(10);
    const text = page('guide/security-model.md');
    for (const rule of rules) expect(text).toContain(`| ${escapeForVitePress(rule.rule)} |`);
    expect(missingCitedPaths(rules, root)).toEqual([]);
  });
});

describe('dashboard elements reference', () => {
  it('has a page per element of the manifest with every attribute, event, part and custom property', () => {
    const elements = readElements(root);
    expect(elements.map((e) => e.tagName)).toEqual(expect.arrayContaining(['sonde-fleet', 'sonde-app', 'sonde-health-badge']));
    const index = page('reference/elements/index.md');
    for (const element of elements) {
      const text = page(`reference/elements/${elementSlug(element)}.md`);
      expect(index).toContain(`](./${elementSlug(element)})`);
      for (const attribute of element.attributes ?? [])
        expect(text, `${element.tagName} ${attribute.name}`).toContain(`\`${attribute.name}\``);
      for (const part of element.cssParts ?? []) expect(text, `${element.tagName} part ${part.name}`).toContain(`\`${part.name}\``);
      for (const prop of element.cssProperties ?? []) expect(text, `${element.tagName} ${prop.name}`).toContain(`\`${prop.name}\``);
    }
    const fleet = page('reference/elements/fleet.md');
    for (const expected of ['`poll-interval`', '`sonde-agent-select`', '`viewport`', '`--sonde-fleet-height`'])
      expect(fleet).toContain(expected);
    expect(fleet).not.toMatch(/\| `name` \| \|/);
  });
});
