import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface PageInfo {
  /** Path of the source Markdown, relative to the site folder (`guide/getting-started.md`). */
  file: string;
  title: string;
  description: string;
}

export function readPageInfo(site: string, file: string): PageInfo {
  const text = readFileSync(path.join(site, file), 'utf8');
  const fm = /^---\n([\s\S]*?)\n---\n/.exec(text)?.[1] ?? '';
  const field = (name: string): string | undefined => {
    const m = new RegExp(`^${name}:\\s*(.+)$`, 'm').exec(fm);
    if (!m) return undefined;
    const raw = m[1].trim();
    return raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
  };
  const heading = /^# (.+)$/m.exec(text)?.[1];
  return { file, title: field('title') ?? heading ?? file, description: field('description') ?? '' };
}

/** URL of a page's Markdown copy: `guide/x.md` → `/guide/x.md`, `index.md` → `/index.md`. */
export function markdownUrl(file: string): string {
  return `/${file.split(path.sep).join('/')}`;
}

const SECTIONS: { prefix: string; title: string }[] = [
  { prefix: 'guide/', title: 'Guides' },
  { prefix: 'reference/', title: 'Reference (generated from the code)' },
];

/**
 * For AI readers: every page's Markdown next to its HTML (`/guide/x.html` and `/guide/x.md`), an `llms.txt` index
 * (https://llmstxt.org) and `llms-full.txt`, the whole site as one Markdown file.
 */
export function writeAiReaderFiles(site: string, dist: string, files: string[]): PageInfo[] {
  const pages = files.map((f) => readPageInfo(site, f));
  for (const p of pages) {
    mkdirSync(path.dirname(path.join(dist, p.file)), { recursive: true });
    copyFileSync(path.join(site, p.file), path.join(dist, p.file));
  }
  const home = pages.find((p) => p.file === 'index.md');
  const lines = ['# Sonde', '', `> ${home?.description ?? 'Read-only infrastructure diagnostics for AI assistants.'}`, ''];
  lines.push(
    'Each page below is plain Markdown; the same page as HTML has the same path ending in `.html`.',
    'The whole site in one file: [llms-full.txt](/llms-full.txt).',
    '',
  );
  for (const section of SECTIONS) {
    const inSection = pages.filter((p) => p.file.split(path.sep).join('/').startsWith(section.prefix));
    if (inSection.length === 0) continue;
    lines.push(`## ${section.title}`, '');
    for (const p of inSection) lines.push(`- [${p.title}](${markdownUrl(p.file)})${p.description ? `: ${p.description}` : ''}`);
    lines.push('');
  }
  writeFileSync(path.join(dist, 'llms.txt'), lines.join('\n'));
  const full = pages.map((p) => `<!-- ${markdownUrl(p.file)} -->\n${readFileSync(path.join(site, p.file), 'utf8')}`).join('\n\n');
  writeFileSync(path.join(dist, 'llms-full.txt'), full);
  return pages;
}
