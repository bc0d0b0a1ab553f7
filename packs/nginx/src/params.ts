import { z } from 'zod';

/** An absolute, normalised path without control characters; the host still checks it against the declared globs. */
export const PathParam = z
  .string()
  .max(4096)
  .startsWith('/', 'an absolute path')
  .refine((p) => ![...p].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f), 'no control characters')
  .refine((p) => !p.split('/').some((segment) => segment === '..' || segment === '.') && !p.includes('//'), 'the path must be normalised');

export const LEVELS = ['debug', 'info', 'notice', 'warn', 'error', 'crit', 'alert', 'emerg'] as const;
export type Level = (typeof LEVELS)[number];

/** Complete lines of a tail read: a read that began mid-file drops its first, partial line. */
export function tailLines(content: string, startedMidFile: boolean): string[] {
  const lines = content.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (startedMidFile && lines.length > 0) lines.shift();
  return lines;
}
