import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'vitepress';

const site = path.resolve(import.meta.dirname, '../site');

/** One sidebar entry per generated pack page, titled by the pack's name. */
function packItems(): { text: string; link: string }[] {
  const dir = path.join(site, 'reference/packs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md') && f !== 'index.md')
    .sort()
    .map((f) => {
      const title = /^title: "(.+)"$/m.exec(readFileSync(path.join(dir, f), 'utf8'))?.[1] ?? f;
      return { text: title.replace(/ pack$/, ''), link: `/reference/packs/${f.replace(/\.md$/, '')}` };
    });
}

/** One sidebar entry per generated element page. */
function elementItems(): { text: string; link: string }[] {
  const dir = path.join(site, 'reference/elements');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md') && f !== 'index.md')
    .sort()
    .map((f) => ({ text: `<sonde-${f.replace(/\.md$/, '')}>`, link: `/reference/elements/${f.replace(/\.md$/, '')}` }));
}

// VitePress 1.6: runs on Node 20 with only the npm registry, builds static HTML, and has offline (local) search built in.
export default defineConfig({
  title: 'Sonde',
  description: 'Read-only infrastructure diagnostics for AI assistants',
  srcDir: 'site',
  outDir: 'dist',
  cacheDir: 'node_modules/.vitepress-cache',
  lang: 'en',
  // No external fonts, analytics or CDN: the site works offline and behind a firewall.
  head: [],
  markdown: { theme: { light: 'github-light', dark: 'github-dark' } },
  // The REST and pack pages carry their JSON Schemas inline: large page chunks are expected, not a bundling mistake.
  vite: { build: { chunkSizeWarningLimit: 2048 } },
  themeConfig: {
    search: { provider: 'local' },
    outline: { level: [2, 3] },
    nav: [
      { text: 'Guide', link: '/guide/getting-started' },
      { text: 'Reference', link: '/reference/configuration' },
      { text: 'llms.txt', link: '/llms.txt', target: '_self' },
    ],
    sidebar: [
      {
        text: 'Guide',
        items: [
          { text: 'Getting started', link: '/guide/getting-started' },
          { text: 'Installing an agent', link: '/guide/agent-install' },
          { text: 'Connecting AI clients', link: '/guide/mcp-clients' },
          { text: 'Connecting with OAuth', link: '/guide/mcp-oauth' },
          { text: 'Administration', link: '/guide/administration' },
          { text: 'Single sign-on', link: '/guide/single-sign-on' },
          { text: 'Several hubs', link: '/guide/multi-hub' },
          { text: 'Embedding widgets', link: '/guide/embedding' },
          { text: 'Writing a pack', link: '/guide/writing-a-pack' },
          { text: 'Security model', link: '/guide/security-model' },
        ],
      },
      {
        text: 'Reference',
        items: [
          { text: 'Hub configuration', link: '/reference/configuration' },
          { text: 'MCP tools', link: '/reference/mcp-tools' },
          { text: 'REST API', link: '/reference/rest-api' },
          { text: 'Packs and probes', link: '/reference/packs/', collapsed: true, items: packItems() },
          { text: 'Dashboard elements', link: '/reference/elements/', collapsed: true, items: elementItems() },
          {
            text: 'Error codes',
            items: [
              { text: 'Hub', link: '/reference/errors/hub' },
              { text: 'Agent', link: '/reference/errors/agent' },
              { text: 'Pack SDK', link: '/reference/errors/pack-sdk' },
            ],
          },
        ],
      },
    ],
    footer: { message: 'Generated from the Sonde repository: reference pages are built from the code at each build.' },
  },
});
