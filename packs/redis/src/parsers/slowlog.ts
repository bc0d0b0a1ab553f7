import { z } from 'zod';

/** One SLOWLOG GET entry: id, unix time, duration in µs, argv, client address, client name. */
const EntrySchema = z.tuple([z.number(), z.number(), z.number(), z.array(z.string())]).rest(z.string());

export const SlowlogEntrySchema = z.object({
  id: z.number().int(),
  at: z.string().describe('When the command ran (ISO 8601).'),
  durationMicros: z.number().int().nonnegative(),
  command: z.array(z.string()).describe('Argv as the server logged it (it cuts long arguments itself).'),
  client: z.string().nullable(),
  clientName: z.string().nullable(),
});

export const SlowlogResultSchema = z.object({
  length: z.number().int().nonnegative().describe('Entries currently in the slow log (SLOWLOG LEN).'),
  entries: z.array(SlowlogEntrySchema).describe('Newest first.'),
});
export type SlowlogResult = z.infer<typeof SlowlogResultSchema>;

export function parseSlowlog(getStdout: string, lenStdout: string): SlowlogResult {
  const entries = z
    .array(EntrySchema)
    .parse(JSON.parse(getStdout))
    .map(([id, time, micros, args, client, name]) => ({
      id,
      at: new Date(time * 1000).toISOString(),
      durationMicros: micros,
      command: args.slice(0, 32).map((arg) => arg.slice(0, 256)),
      client: client || null,
      clientName: name || null,
    }));
  return { length: z.number().int().parse(JSON.parse(lenStdout)), entries };
}
