import { z } from 'zod';

const StatementRowSchema = z.object({
  id: z.string().nullable(),
  calls: z.number(),
  total_ms: z.number(),
  mean_ms: z.number(),
  rows: z.number(),
  query: z.string().nullable(),
});

export const StatementSchema = z.object({
  queryId: z.string().nullable(),
  calls: z.number().int().nonnegative(),
  totalMs: z.number(),
  meanMs: z.number(),
  rows: z.number().int().nonnegative(),
  query: z.string().nullable(),
});
export type Statement = z.infer<typeof StatementSchema>;

export function parseStatements(value: unknown): Statement[] {
  return z
    .array(StatementRowSchema)
    .parse(value ?? [])
    .map((row) => ({ queryId: row.id, calls: row.calls, totalMs: row.total_ms, meanMs: row.mean_ms, rows: row.rows, query: row.query }));
}

export function parseStatementsInstalled(value: unknown): boolean {
  return z.object({ installed: z.boolean() }).parse(value).installed;
}
