import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Reads a recorded output from test/recorded (see recorded/README.md). */
export function recorded(name: string): string {
  return readFileSync(path.join(import.meta.dirname, 'recorded', name), 'utf8');
}

/** A recorded real run saved as NAME.stdout, NAME.stderr and NAME.rc. */
export function recordedRun(name: string): { stdout: string; stderr: string; exitCode: number } {
  return { stdout: recorded(`${name}.stdout`), stderr: recorded(`${name}.stderr`), exitCode: Number(recorded(`${name}.rc`).trim()) };
}
