import { z } from 'zod';
import { toNumber, type BatchResult } from './batch.js';

export const ThreadSchema = z.object({
  id: z.number().int(),
  user: z.string().nullable(),
  host: z.string().nullable(),
  database: z.string().nullable(),
  command: z.string().describe('Query, Sleep, Connect, Binlog Dump, Daemon, …'),
  timeSeconds: z.number().int().describe('Seconds in the current state.'),
  state: z.string().nullable(),
  info: z.string().nullable().describe('First 200 characters of the statement.'),
});
export type Thread = z.infer<typeof ThreadSchema>;

export const ProcesslistResultSchema = z.object({
  total: z.number().int().nonnegative().describe('Threads other than the probe itself.'),
  running: z.number().int().nonnegative().describe('Threads executing a statement (command Query).'),
  byCommand: z.record(z.string(), z.number().int()),
  byUser: z.record(z.string(), z.number().int()),
  longestQuery: ThreadSchema.nullable(),
  threads: z.array(ThreadSchema).describe('Longest in their state first.'),
});
export type ProcesslistResult = z.infer<typeof ProcesslistResultSchema>;

export function parseThreads(result: BatchResult): Thread[] {
  return result.rows.map((row) => ({
    id: toNumber(row.ID) ?? -1,
    user: row.USER ?? null,
    host: row.HOST || null,
    database: row.DB ?? null,
    command: row.COMMAND ?? 'unknown',
    timeSeconds: toNumber(row.TIME) ?? 0,
    state: row.STATE || null,
    info: row.INFO ?? null,
  }));
}

export function summarizeThreads(threads: Thread[], minSeconds = 0): ProcesslistResult {
  const byCommand: Record<string, number> = {};
  const byUser: Record<string, number> = {};
  for (const t of threads) {
    byCommand[t.command] = (byCommand[t.command] ?? 0) + 1;
    byUser[t.user ?? '(none)'] = (byUser[t.user ?? '(none)'] ?? 0) + 1;
  }
  const queries = threads.filter((t) => t.command === 'Query');
  const longestQuery = queries.reduce<Thread | null>((best, t) => (best === null || t.timeSeconds > best.timeSeconds ? t : best), null);
  return {
    total: threads.length,
    running: queries.length,
    byCommand,
    byUser,
    longestQuery,
    threads: threads.filter((t) => t.timeSeconds >= minSeconds).sort((a, b) => b.timeSeconds - a.timeSeconds),
  };
}
