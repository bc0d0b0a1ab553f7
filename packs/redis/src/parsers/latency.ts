import { z } from 'zod';

export const LatencyResultSchema = z.object({
  events: z.array(
    z.object({
      event: z.string().describe('e.g. command, fast-command, fork, aof-fsync-always.'),
      at: z.string(),
      latestMs: z.number().int().nonnegative(),
      maxMs: z.number().int().nonnegative(),
    }),
  ),
  note: z.string().optional(),
});
export type LatencyResult = z.infer<typeof LatencyResultSchema>;

/** LATENCY LATEST: [[event, unix time, latest ms, max ms], …]; empty unless latency-monitor-threshold > 0. */
export function parseLatencyLatest(stdout: string): LatencyResult {
  const rows = z.array(z.tuple([z.string(), z.number(), z.number(), z.number()]).rest(z.unknown())).parse(JSON.parse(stdout));
  const events = rows.map(([event, time, latest, max]) => ({
    event,
    at: new Date(time * 1000).toISOString(),
    latestMs: latest,
    maxMs: max,
  }));
  return events.length > 0
    ? { events }
    : { events, note: 'no latency spikes recorded (or latency-monitor-threshold is 0, which disables the monitor)' };
}
