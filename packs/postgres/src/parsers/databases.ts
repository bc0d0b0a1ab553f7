import { z } from 'zod';

const DatabaseRowSchema = z.object({ name: z.string(), size_bytes: z.number(), allow_conn: z.boolean(), is_template: z.boolean() });

export const DatabasesResultSchema = z.object({
  databases: z.array(
    z.object({ name: z.string(), sizeBytes: z.number().int().nonnegative(), allowConnections: z.boolean(), isTemplate: z.boolean() }),
  ),
  totalBytes: z.number().int().nonnegative(),
});
export type DatabasesResult = z.infer<typeof DatabasesResultSchema>;

export function parseDatabases(value: unknown): DatabasesResult {
  const rows = z.array(DatabaseRowSchema).parse(value ?? []);
  const databases = rows.map((row) => ({
    name: row.name,
    sizeBytes: row.size_bytes,
    allowConnections: row.allow_conn,
    isTemplate: row.is_template,
  }));
  return { databases, totalBytes: databases.reduce((sum, db) => sum + db.sizeBytes, 0) };
}
