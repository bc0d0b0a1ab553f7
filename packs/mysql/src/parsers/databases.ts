import { z } from 'zod';
import { toNumber, type BatchResult } from './batch.js';

const SYSTEM_SCHEMAS = new Set(['information_schema', 'mysql', 'performance_schema', 'sys']);

export const DatabasesResultSchema = z.object({
  databases: z.array(
    z.object({
      name: z.string(),
      sizeBytes: z.number().int().nonnegative().describe('Data plus index length of its tables (InnoDB estimates).'),
      tables: z.number().int().nonnegative(),
      system: z.boolean().describe('information_schema, mysql, performance_schema or sys.'),
    }),
  ),
  totalBytes: z.number().int().nonnegative(),
});
export type DatabasesResult = z.infer<typeof DatabasesResultSchema>;

export function parseDatabases(result: BatchResult): DatabasesResult {
  const databases = result.rows
    .map((row) => ({
      name: row.name ?? '',
      sizeBytes: toNumber(row.size_bytes) ?? 0,
      tables: toNumber(row.tables) ?? 0,
      system: SYSTEM_SCHEMAS.has(row.name ?? ''),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { databases, totalBytes: databases.reduce((sum, db) => sum + db.sizeBytes, 0) };
}
