import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLinks } from '../generate/link-check.js';
import { escapeForVitePress } from '../generate/markdown.js';
import { expandMarkers, importedOutside } from '../generate/site.js';
import { missingCitedPaths, readSecurityRules } from '../generate/security-reference.js';

const root = path.resolve(import.meta.dirname, '../..');
const temp: string[] = [];
afterEach(() => {
  for (const dir of temp.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function site(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sonde-links-'));
  temp.push(dir);
  for (const [rel, html] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), html);
  }
  return dir;
}

describe('link check', () => {
  it('reports a missing page and a missing anchor, and accepts pages, folders, anchors and external links', () => {
    const dist = site({
      'index.html': [
        '<a href="/guide/a.html#setup">ok</a>',
        '<a href="/guide/a#setup">ok without .html</a>',
        '<a href="/reference/">ok folder</a>',
        '<a href="/llms.txt">ok file</a>',
        '<a href="#top">ok same page</a><h1 id="top">x</h1>',
        '<a href="https://example.com/nowhere#x">external, not followed</a>',
        '<a href="/guide/missing.html">broken page</a>',
        '<a href="/guide/a.html#nope">broken anchor</a>',
      ].join('\n'),
      'guide/a.html': '<h2 id="setup">Setup</h2><a href="../index.html#top">relative ok</a><a href="b.html">relative broken</a>',
      'reference/index.html': '<p>ref</p>',
      'llms.txt': '# Sonde',
    });
    const { broken, links } = checkLinks(dist);
    expect(links).toBe(9);
    expect(broken).toEqual([
      { page: '/guide/a.html', href: 'b.html', reason: 'no such page' },
      { page: '/index.html', href: '/guide/missing.html', reason: 'no such page' },
      { page: '/index.html', href: '/guide/a.html#nope', reason: 'no element with id "nope"' },
    ]);
  });
});

describe('page markers', () => {
  it('includes a repository file as a fenced block and refuses a missing one', () => {
    const out = expandMarkers('before\n<!-- @include agent/deploy/sonde.service ini -->\nafter', root, {}, 'x.md');
    expect(out).toMatch(/^before\n```ini\n# Sonde agent/);
    expect(out).toContain('SocketBindDeny=any');
    expect(() => expandMarkers('<!-- @include agent/deploy/nope.service -->', root, {}, 'x.md')).toThrow(/nope.service does not exist/);
    expect(() => expandMarkers('<!-- @generated nope -->', root, {}, 'x.md')).toThrow(/unknown @generated block nope/);
  });

  it('escapes what Vue would compile, outside code', () => {
    expect(escapeForVitePress('run sonde <command> or `sonde <command>`')).toBe('run sonde &lt;command&gt; or `sonde <command>`');
    expect(escapeForVitePress("`docker --format '{{json .}}'`")).toBe("<code v-pre>docker --format '{{json .}}'</code>");
    expect(escapeForVitePress('```\n<raw>\n```')).toBe('```\n<raw>\n```');
  });
});

describe('security table', () => {
  const doc = [
    '## Where each security rule is enforced',
    '',
    '| rule | where | test |',
    '|---|---|---|',
    '| No shell | `agent/src/cli.ts` `main` | `agent/test/cli.test.ts`, `packs/*/test/` |',
    '| Gone | `hub/src/moved-away.ts` | `guard.ts` |',
    '',
    '| platform | isolation |',
    '|---|---|',
    '| Linux | x |',
  ].join('\n');

  it('reads the rows of the first table only and reports cited paths that do not exist', () => {
    const rules = readSecurityRules(doc);
    expect(rules.map((r) => r.rule)).toEqual(['No shell', 'Gone']);
    expect(missingCitedPaths(rules, root)).toEqual(['hub/src/moved-away.ts (rule: Gone)']);
  });

  it('refuses a document without the table', () => {
    expect(() => readSecurityRules('# nothing')).toThrow(/no "## Where each security rule is enforced" section/);
  });
});

describe('planned modules', () => {
  it('counts a module as wired in only when code outside it imports it', () => {
    const src = site({
      'identity/config.ts': "import { x } from '../store/x.js';",
      'identity/config.test.ts': '',
      'store/x.ts': 'export const x = 1;',
      'app.ts': "import { a } from './routes/a.js';",
      'routes/a.test.ts': "import { y } from '../identity/config.js';",
    });
    expect(importedOutside(src, 'identity')).toBe(false);
    writeFileSync(path.join(src, 'app.ts'), "import { login } from './identity/index.js';");
    expect(importedOutside(src, 'identity')).toBe(true);
  });
});
