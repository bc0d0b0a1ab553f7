import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Reads a recorded real output from test/recorded (see recorded/README.md). */
export function recorded(name: string): string {
  return readFileSync(path.join(import.meta.dirname, 'recorded', name), 'utf8');
}
