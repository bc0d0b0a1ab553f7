import { readFileSync } from 'node:fs';
import path from 'node:path';

/** A recorded or documented API answer from test/recorded (see recorded/README.md). */
export function recorded(name: string): string {
  return readFileSync(path.join(import.meta.dirname, 'recorded', name), 'utf8');
}
