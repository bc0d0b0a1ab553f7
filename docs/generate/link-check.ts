import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface BrokenLink {
  page: string;
  href: string;
  reason: string;
}

function htmlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...htmlFiles(full));
    else if (name.endsWith('.html')) out.push(full);
  }
  return out;
}

/** The file a site-internal path is served from, as a static server with VitePress's default URLs would. */
function targetFile(dist: string, urlPath: string): string | undefined {
  const p = path.join(dist, decodeURIComponent(urlPath));
  const candidates = urlPath.endsWith('/') ? [path.join(p, 'index.html')] : [p, `${p}.html`, path.join(p, 'index.html')];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

function idsOf(html: string): Set<string> {
  const ids = new Set<string>();
  for (const m of html.matchAll(/\sid="([^"]+)"/g)) ids.add(decodeEntities(m[1]));
  return ids;
}

function decodeEntities(s: string): string {
  return s
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
}

/**
 * Every `<a href>` in the built site that stays on the site must reach a file, and its `#fragment` an element id on that
 * page. External links (any URL with a scheme) are not followed: the check runs with no network.
 */
export function checkLinks(dist: string): { pages: number; links: number; broken: BrokenLink[] } {
  const files = htmlFiles(dist);
  const idCache = new Map<string, Set<string>>();
  const ids = (file: string): Set<string> => {
    let set = idCache.get(file);
    if (!set) idCache.set(file, (set = idsOf(readFileSync(file, 'utf8'))));
    return set;
  };
  const broken: BrokenLink[] = [];
  let links = 0;
  for (const file of files) {
    const html = readFileSync(file, 'utf8');
    const page = '/' + path.relative(dist, file).split(path.sep).join('/');
    for (const m of html.matchAll(/<a\s[^>]*?href="([^"]*)"/g)) {
      const href = decodeEntities(m[1]);
      if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//')) continue;
      links++;
      const [rawPath, fragment] = href.split('#', 2) as [string, string | undefined];
      const resolved = rawPath === '' ? page : new URL(rawPath, `http://site${page}`).pathname;
      const target = rawPath === '' ? file : targetFile(dist, resolved);
      if (!target) {
        broken.push({ page, href, reason: 'no such page' });
        continue;
      }
      if (fragment && target.endsWith('.html') && !ids(target).has(decodeURIComponent(fragment))) {
        broken.push({ page, href, reason: `no element with id "${fragment}"` });
      }
    }
  }
  return { pages: files.length, links, broken };
}
