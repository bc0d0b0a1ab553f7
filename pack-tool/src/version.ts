import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function toolVersion(): string {
  const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
