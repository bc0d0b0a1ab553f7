import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { PathParam, tailLines } from '../params.js';
import { parseAccessLine, summariseAccess, type AccessEntry } from '../parsers/access-log.js';

const TAIL_BYTES = 1024 * 1024;

export const accessTail = defineProbe({
  name: 'access.tail',
  description:
    'Last requests of an access log in combined format, parsed (client, time, method, path, status, bytes, referrer, user agent), with counts per status and per status class. Only files under /var/log/nginx.',
  params: z.strictObject({
    path: PathParam.default('/var/log/nginx/access.log'),
    lines: z.number().int().min(1).max(5000).default(200),
    includeEntries: z.boolean().default(true).describe('False returns only the counts.'),
  }),
  result: z.object({
    path: z.string(),
    entries: z.array(
      z.object({
        remoteAddr: z.string(),
        remoteUser: z.string().nullable(),
        time: z.string().nullable(),
        method: z.string().nullable(),
        path: z.string().nullable(),
        protocol: z.string().nullable(),
        request: z.string(),
        status: z.number().int(),
        bytes: z.number().int(),
        referrer: z.string().nullable(),
        userAgent: z.string().nullable(),
      }),
    ),
    parsed: z.number().int(),
    unparsed: z.number().int().describe('Lines not in combined format (custom log_format).'),
    statusCounts: z.record(z.string(), z.number().int()),
    statusClasses: z.object({
      '1xx': z.number().int(),
      '2xx': z.number().int(),
      '3xx': z.number().int(),
      '4xx': z.number().int(),
      '5xx': z.number().int(),
    }),
    totalBytes: z.number().int(),
    truncated: z.boolean(),
  }),
  timeoutMs: 15_000,
  async handler(params, ctx) {
    const read = await ctx.readFile(params.path, { tail: true, maxBytes: TAIL_BYTES });
    const all = tailLines(read.content, read.truncated);
    const lines = all.slice(-params.lines);
    const entries: AccessEntry[] = [];
    let unparsed = 0;
    for (const line of lines) {
      const entry = parseAccessLine(line);
      if (entry) entries.push(entry);
      else unparsed += 1;
    }
    return {
      path: params.path,
      entries: params.includeEntries ? entries : [],
      parsed: entries.length,
      unparsed,
      ...summariseAccess(entries),
      truncated: read.truncated || all.length > lines.length,
    };
  },
});
