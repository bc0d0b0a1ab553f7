import { readFileSync } from 'node:fs';
import path from 'node:path';
import { escapeForVitePress, frontMatter, generatedNote } from './markdown.js';

/** The error tables are kept in docs/errors/ because each part's tests read them; the site shows them as they are. */
export const ERROR_PAGES = [
  { file: 'hub.md', title: 'Hub error codes', description: 'Every SONDE_ERR_* code the hub, its REST API, MCP endpoint and CLI report.' },
  { file: 'agent.md', title: 'Agent error codes', description: 'Every SONDE_ERR_* code and exit code of the sonde agent CLI.' },
  { file: 'pack-sdk.md', title: 'Pack SDK error codes', description: 'Every SONDE_ERR_* code a probe, pack or the wire protocol reports.' },
] as const;

export function renderErrorPage(docsDir: string, page: (typeof ERROR_PAGES)[number]): string {
  const text = readFileSync(path.join(docsDir, 'errors', page.file), 'utf8');
  return `${frontMatter(page.title, page.description)}${generatedNote(`docs/errors/${page.file}`)}\n${escapeForVitePress(text)}`;
}
