import { z } from 'zod';

/** Job and scrape pool names as Prometheus configs use them; nothing that could act as syntax anywhere. */
export const JobName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/, 'a job name: letters, digits, _ . : - (max 128)');

export const Limit = (fallback: number, max: number) => z.number().int().min(1).max(max).default(fallback);

/** RFC 3339 or a Unix timestamp, the two forms the API accepts for `time`. */
export const Timestamp = z
  .string()
  .regex(
    /^(?:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})|\d{1,10}(?:\.\d{1,3})?)$/,
    'RFC 3339 (2026-11-24T01:00:00Z) or a Unix timestamp',
  );

function isForbiddenControl(ch: string): boolean {
  const code = ch.charCodeAt(0);
  return (code < 0x20 && ch !== '\n' && ch !== '\t') || code === 0x7f;
}

/**
 * PromQL passes as one URL-encoded query parameter, so it cannot alter the
 * request; limiting length and control characters keeps it a single readable
 * expression (newlines and tabs are fine in PromQL).
 */
export const PromQL = z
  .string()
  .min(1)
  .max(4000)
  .refine((q) => ![...q].some(isForbiddenControl), 'no control characters other than newline and tab')
  .refine((q) => q.trim().length > 0, 'an expression');
