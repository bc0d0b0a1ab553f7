import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { LogPathParam } from '../params.js';
import { lastLines, parseLogLine } from '../parsers/syslog.js';
import { LOG_GLOBS } from '../permissions.js';

const TAIL_BYTES = 512 * 1024;

export const logsTail = defineProbe({
  name: 'logs.tail',
  description: `Last lines of a declared log file (${LOG_GLOBS.join(', ')}), with the syslog prefix split into time, host, program and pid where present. Other paths, symlinks out of these globs and the agent's own files are refused.`,
  params: z.strictObject({ path: LogPathParam.default('/var/log/syslog'), lines: z.number().int().min(1).max(2000).default(200) }),
  result: z.object({
    path: z.string(),
    sizeBytes: z.number().int().nonnegative(),
    lines: z.array(
      z.object({
        time: z.string().nullable(),
        host: z.string().nullable(),
        program: z.string().nullable(),
        pid: z.number().int().nullable(),
        message: z.string(),
      }),
    ),
    truncated: z.boolean().describe('True when older lines of the file were not returned.'),
  }),
  timeoutMs: 10_000,
  async handler(params, ctx) {
    const read = await ctx.readFile(params.path, { tail: true, maxBytes: TAIL_BYTES });
    const all = lastLines(read.content, Number.MAX_SAFE_INTEGER, read.truncated);
    const kept = all.slice(-params.lines);
    return {
      path: params.path,
      sizeBytes: read.size,
      lines: kept.map(parseLogLine),
      truncated: read.truncated || all.length > kept.length,
    };
  },
});
