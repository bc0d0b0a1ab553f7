import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { LEVELS, PathParam, tailLines } from '../params.js';
import { parseErrorLine, type ErrorEntry } from '../parsers/error-log.js';

const TAIL_BYTES = 1024 * 1024;

export const errorTail = defineProbe({
  name: 'error.tail',
  description:
    'Last entries of the nginx error log, parsed (time, level, pid, connection, message, client, server, request, host), with counts per level; filter by minimum level. Only files under /var/log/nginx.',
  params: z.strictObject({
    path: PathParam.default('/var/log/nginx/error.log'),
    lines: z.number().int().min(1).max(5000).default(200),
    minLevel: z.enum(LEVELS).default('warn'),
  }),
  result: z.object({
    path: z.string(),
    entries: z.array(
      z.object({
        time: z.string().nullable(),
        level: z.enum(LEVELS),
        pid: z.number().int(),
        connection: z.number().int().nullable(),
        message: z.string(),
        client: z.string().nullable(),
        server: z.string().nullable(),
        request: z.string().nullable(),
        host: z.string().nullable(),
      }),
    ),
    countsByLevel: z.record(z.string(), z.number().int()),
    unparsed: z.number().int(),
    truncated: z.boolean(),
  }),
  timeoutMs: 15_000,
  async handler(params, ctx) {
    const read = await ctx.readFile(params.path, { tail: true, maxBytes: TAIL_BYTES });
    const lines = tailLines(read.content, read.truncated);
    const parsed: ErrorEntry[] = [];
    let unparsed = 0;
    for (const line of lines) {
      const entry = parseErrorLine(line);
      if (entry) parsed.push(entry);
      // Continuation lines (multi-line upstream messages) count as unparsed.
      else if (line.trim()) unparsed += 1;
    }
    const countsByLevel: Record<string, number> = {};
    for (const entry of parsed) countsByLevel[entry.level] = (countsByLevel[entry.level] ?? 0) + 1;
    const floor = LEVELS.indexOf(params.minLevel);
    const kept = parsed.filter((entry) => LEVELS.indexOf(entry.level) >= floor);
    return {
      path: params.path,
      entries: kept.slice(-params.lines),
      countsByLevel,
      unparsed,
      truncated: read.truncated || kept.length > params.lines,
    };
  },
});
