import { existsSync } from 'node:fs';
import path from 'node:path';
import { escapeForVitePress, generatedNote } from './markdown.js';

export interface SecurityRule {
  rule: string;
  where: string;
  tests: string;
}

const TABLE_HEADING = '## Where each security rule is enforced';
const TOP_FOLDERS = ['pack-sdk/', 'agent/', 'hub/', 'registry/', 'packs/', 'test/', 'scripts/', 'web-components/', 'create-sonde-pack/'];

/** The rows of ARCHITECTURE.md's enforcement table: the one list of guarantees, kept beside the code it names. */
export function readSecurityRules(architecture: string): SecurityRule[] {
  const start = architecture.indexOf(TABLE_HEADING);
  if (start < 0) throw new Error(`ARCHITECTURE.md has no "${TABLE_HEADING}" section`);
  // The first table after the heading, up to its first non-table line.
  const after = architecture.slice(start).split('\n').slice(1);
  const first = after.findIndex((line) => line.startsWith('|'));
  const rows: string[] = [];
  for (const line of first < 0 ? [] : after.slice(first)) {
    if (!line.startsWith('|')) break;
    rows.push(line);
  }
  const body = rows.slice(2); // header and separator
  const out: SecurityRule[] = [];
  for (const line of body) {
    const cells = splitRow(line);
    if (cells.length !== 3) throw new Error(`ARCHITECTURE.md security table: expected 3 cells, got ${cells.length}: ${line}`);
    out.push({ rule: cells[0], where: cells[1], tests: cells[2] });
  }
  if (out.length === 0) throw new Error('ARCHITECTURE.md security table has no rows');
  return out;
}

function splitRow(line: string): string[] {
  const cells: string[] = [];
  let current = '';
  let inCode = false;
  for (let i = 1; i < line.length; i++) {
    const ch = line[i];
    if (ch === '`') inCode = !inCode;
    if (ch === '|' && !inCode && line[i - 1] !== '\\') {
      cells.push(current.trim());
      current = '';
    } else current += ch;
  }
  return cells;
}

/**
 * Repository paths a row cites (`hub/src/audit/audit-log.ts`, `agent/test/`), for the check that each still exists.
 * Globs (`packs/*\/test/`) and bare file names (`guard.ts`, resolved by the reader from the row) are left out.
 */
export function citedPaths(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/`([^`]+)`/g)) {
    const token = m[1].split(/\s/)[0];
    if (!TOP_FOLDERS.some((f) => token.startsWith(f)) || token.includes('*')) continue;
    out.add(token);
  }
  return [...out];
}

export function missingCitedPaths(rules: SecurityRule[], root: string): string[] {
  const missing: string[] = [];
  for (const r of rules)
    for (const p of citedPaths(`${r.where} ${r.tests}`)) if (!existsSync(path.join(root, p))) missing.push(`${p} (rule: ${r.rule})`);
  return missing;
}

/** Table cells from ARCHITECTURE.md are Markdown already: keep code spans, escape the rest for VitePress. */
function keepCode(text: string): string {
  return escapeForVitePress(text.replace(/\s*\n\s*/g, ' '));
}

export function renderSecurityTable(rules: SecurityRule[]): string {
  return [
    generatedNote('ARCHITECTURE.md, "Where each security rule is enforced"'),
    '| Guarantee | Where it is enforced | Test that tries to break it |',
    '| --- | --- | --- |',
    ...rules.map((r) => `| ${keepCode(r.rule)} | ${keepCode(r.where)} | ${keepCode(r.tests)} |`),
  ].join('\n');
}
