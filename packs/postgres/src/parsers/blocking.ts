import { z } from 'zod';

const BlockedRowSchema = z.object({
  pid: z.number().int(),
  blocked_by: z.array(z.number().int()),
  usr: z.string().nullable(),
  db: z.string().nullable(),
  secs: z.number().nullable(),
  query: z.string().nullable(),
});

export const BlockingResultSchema = z.object({
  blocked: z.array(
    z.object({
      pid: z.number().int(),
      blockedBy: z.array(z.number().int()),
      user: z.string().nullable(),
      database: z.string().nullable(),
      waitingSeconds: z.number().nullable().describe('Seconds since the blocked query started.'),
      query: z.string().nullable(),
    }),
  ),
  rootBlockers: z.array(z.number().int()).describe('Blocking pids that are not blocked themselves: the ones to look at.'),
});
export type BlockingResult = z.infer<typeof BlockingResultSchema>;

export function parseBlocking(value: unknown): BlockingResult {
  const rows = z.array(BlockedRowSchema).parse(value ?? []);
  const blocked = rows.map((row) => ({
    pid: row.pid,
    blockedBy: row.blocked_by,
    user: row.usr,
    database: row.db,
    waitingSeconds: row.secs === null ? null : Math.round(row.secs * 1000) / 1000,
    query: row.query,
  }));
  const blockedPids = new Set(blocked.map((b) => b.pid));
  const rootBlockers = [...new Set(blocked.flatMap((b) => b.blockedBy))].filter((pid) => !blockedPids.has(pid)).sort((a, b) => a - b);
  return { blocked, rootBlockers };
}
