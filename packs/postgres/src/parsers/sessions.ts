import { z } from 'zod';

/** One row of the fixed pg_stat_activity query (short keys keep the SQL under the argv limit). */
const SessionRowSchema = z.object({
  pid: z.number().int(),
  u: z.string().nullable(),
  d: z.string().nullable(),
  a: z.string().nullable(),
  c: z.string().nullable(),
  s: z.string().nullable(),
  x: z.number().nullable(),
  q: z.string().nullable(),
});

export const SessionSchema = z.object({
  pid: z.number().int(),
  user: z.string().nullable(),
  database: z.string().nullable(),
  application: z.string().nullable(),
  client: z.string().nullable().describe('Client address; null for a Unix socket.'),
  state: z.string().describe('active, idle, idle in transaction, … or "unknown" when the role may not see it.'),
  querySeconds: z.number().nullable().describe('Seconds since the current or last query started.'),
  query: z.string().nullable().describe('First 200 characters of the query.'),
});
export type Session = z.infer<typeof SessionSchema>;

export function parseSessions(value: unknown): Session[] {
  return z
    .array(SessionRowSchema)
    .parse(value ?? [])
    .map((row) => ({
      pid: row.pid,
      user: row.u,
      database: row.d,
      application: row.a,
      client: row.c,
      state: row.s ?? 'unknown',
      querySeconds: row.x === null ? null : Math.round(row.x * 1000) / 1000,
      query: row.q,
    }));
}

export const ConnectionsResultSchema = z.object({
  total: z.number().int().nonnegative().describe('Client sessions other than the probe itself.'),
  maxConnections: z.number().int().positive(),
  usedPercent: z.number(),
  byState: z.record(z.string(), z.number().int()),
  byDatabase: z.record(z.string(), z.number().int()),
  longestRunning: SessionSchema.nullable().describe('The active session whose query started longest ago.'),
  sessions: z.array(SessionSchema),
});
export type ConnectionsResult = z.infer<typeof ConnectionsResultSchema>;

function countBy(sessions: Session[], key: (s: Session) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const session of sessions) counts[key(session)] = (counts[key(session)] ?? 0) + 1;
  return counts;
}

export function summarizeConnections(sessions: Session[], maxConnections: number): ConnectionsResult {
  const active = sessions.filter((s) => s.state === 'active' && s.querySeconds !== null);
  const longestRunning = active.reduce<Session | null>(
    (best, s) => (best === null || s.querySeconds! > best.querySeconds! ? s : best),
    null,
  );
  // +1: the probe's own session also holds a connection slot.
  const used = sessions.length + 1;
  return {
    total: sessions.length,
    maxConnections,
    usedPercent: Math.round((used / maxConnections) * 1000) / 10,
    byState: countBy(sessions, (s) => s.state),
    byDatabase: countBy(sessions, (s) => s.database ?? '(none)'),
    longestRunning,
    sessions,
  };
}

export function parseMaxConnections(value: unknown): number {
  return z.object({ max_connections: z.number().int().positive() }).parse(value).max_connections;
}
