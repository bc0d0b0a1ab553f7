/**
 * `npm run docs`: generates the reference pages from the code, builds the site with VitePress, writes the Markdown
 * copies and llms.txt for AI readers, then checks every internal link and anchor. Exit 1 on any failure.
 * Needs a built repository (`npm run build`): the pack manifests and the hub's dist are its inputs.
 */
import path from 'node:path';
import { build } from 'vitepress';
import { writeAiReaderFiles } from './ai-readers.js';
import { checkLinks } from './link-check.js';
import { generateSite, sitePaths } from './site.js';

const docs = path.resolve(import.meta.dirname, '..');
const paths = sitePaths(docs);
const dist = path.join(docs, 'dist');

const started = performance.now();
const pages = await generateSite(paths);
console.log(`docs: ${pages.length} pages written to docs/site/ (${Math.round(performance.now() - started)} ms)`);
await build(docs);
writeAiReaderFiles(paths.site, dist, pages);
const { pages: htmlPages, links, broken } = checkLinks(dist);
if (broken.length) {
  console.error(`docs: ${broken.length} broken internal link(s):`);
  for (const b of broken) console.error(`  ${b.page}: ${b.href} (${b.reason})`);
  process.exit(1);
}
console.log(
  `docs: link check ok (${links} internal links on ${htmlPages} pages); site in docs/dist/ (${Math.round(performance.now() - started)} ms)`,
);
