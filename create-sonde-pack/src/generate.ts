import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateError } from './errors.js';
import type { Template } from './options.js';

/** templates/<kind>/ plus templates/common/, next to dist/ in the published package and in the workspace alike. */
export const TEMPLATES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../templates');

/** Files npm would drop or act on inside the scaffolder's own tarball are stored under another name. */
const RENAMED: Record<string, string> = { '_package.json': 'package.json', gitignore: '.gitignore', npmrc: '.npmrc' };

export interface Answers {
  directory: string;
  template: Template;
  packName: string;
  packageName: string;
  probeName: string;
  /** The SDK and pack tool range the pack is written against (this scaffolder's own version: they are released together). */
  sdkRange: string;
}

/** Entries that make a folder "not empty": anything but a .git folder. */
export function populatedEntries(directory: string): string[] {
  if (!existsSync(directory)) return [];
  if (!statSync(directory).isDirectory())
    throw new CreateError(
      'Not a directory',
      `${directory} exists and is a file.`,
      'Choose a new folder name, e.g. npm create sonde-pack my-pack.',
    );
  return readdirSync(directory).filter((entry) => entry !== '.git');
}

export function refusePopulated(directory: string): void {
  const entries = populatedEntries(directory);
  if (entries.length === 0) return;
  const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? ', …' : '');
  throw new CreateError(
    'Directory is not empty',
    `${directory} already holds ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'} (${shown}).\ncreate-sonde-pack never writes into a populated folder, so nothing of yours is overwritten.`,
    `Choose a new folder name, e.g. npm create sonde-pack ${path.basename(directory)}-2, or empty this one.`,
  );
}

function substitute(text: string, answers: Answers): string {
  const values: Record<string, string> = {
    packName: answers.packName,
    packageName: answers.packageName,
    probeName: answers.probeName,
    probeTool: `${answers.packName}.${answers.probeName}`.replace(/[^a-z0-9_]/g, '_'),
    sdkRange: answers.sdkRange,
    template: answers.template,
  };
  return text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole);
}

function copyTree(from: string, to: string, answers: Answers, written: string[]): void {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, RENAMED[entry.name] ?? entry.name);
    if (entry.isDirectory()) {
      mkdirSync(target, { recursive: true });
      copyTree(source, target, answers, written);
    } else {
      writeFileSync(target, substitute(readFileSync(source, 'utf8'), answers));
      written.push(target);
    }
  }
}

/** Writes common/ then <kind>/ (which may replace a common file); returns the files written. */
export function generate(answers: Answers): string[] {
  refusePopulated(answers.directory);
  mkdirSync(answers.directory, { recursive: true });
  const written: string[] = [];
  copyTree(path.join(TEMPLATES_DIR, 'common'), answers.directory, answers, written);
  copyTree(path.join(TEMPLATES_DIR, answers.template), answers.directory, answers, written);
  return written.map((file) => path.relative(answers.directory, file)).sort();
}
