import { defineProbe, SondeError } from '@sonde/pack-sdk';
import { z } from 'zod';
import { dmesgLacksJson, dmesgNotPermitted, parseDmesgJson, parseDmesgText, type KernelMessage } from '../parsers/dmesg.js';
import { PRIORITY_NAMES } from '../parsers/journal.js';

export const logsDmesg = defineProbe({
  name: 'logs.dmesg',
  description: 'Latest kernel ring buffer messages (seconds since boot, level, text) and counts per level; filter by minimum level.',
  params: z.strictObject({
    lines: z.number().int().min(1).max(1000).default(100),
    minLevel: z.enum(PRIORITY_NAMES).optional().describe('Keep this level and more severe ones (needs JSON dmesg for levels).'),
  }),
  result: z.object({
    messages: z.array(z.object({ timeSeconds: z.number().nullable(), level: z.enum(PRIORITY_NAMES).nullable(), message: z.string() })),
    countsByLevel: z.record(z.string(), z.number().int()),
    total: z.number().int(),
    truncated: z.boolean(),
    format: z.enum(['json', 'text']),
  }),
  timeoutMs: 10_000,
  maxOutputBytes: 4 * 1024 * 1024,
  async handler(params, ctx) {
    let out = await ctx.exec('dmesg', ['--json'], { okExitCodes: [0, 1] });
    let format: 'json' | 'text' = 'json';
    if (out.exitCode !== 0 && dmesgLacksJson(out.stderr)) {
      out = await ctx.exec('dmesg', [], { okExitCodes: [0, 1] });
      format = 'text';
    }
    if (out.exitCode !== 0) {
      if (dmesgNotPermitted(out.stderr)) {
        throw new SondeError(
          'SONDE_ERR_PERMISSION_DENIED',
          'dmesg: kernel.dmesg_restrict is set, the agent user may not read the kernel log; use logs.journal (kernel entries) instead',
        );
      }
      throw new SondeError('SONDE_ERR_COMMAND_FAILED', `dmesg failed: ${out.stderr.trim().split('\n')[0] ?? ''}`);
    }
    let all: KernelMessage[];
    try {
      all = format === 'json' ? parseDmesgJson(out.stdout) : parseDmesgText(out.stdout);
    } catch {
      // A capped JSON document cannot be parsed; fall back to reading it line by line.
      all = parseDmesgText(out.stdout);
      format = 'text';
    }
    const countsByLevel: Record<string, number> = {};
    for (const message of all) if (message.level) countsByLevel[message.level] = (countsByLevel[message.level] ?? 0) + 1;
    const limit = params.minLevel ? PRIORITY_NAMES.indexOf(params.minLevel) : 7;
    const kept = all.filter((m) => m.level === null || PRIORITY_NAMES.indexOf(m.level) <= limit);
    return {
      messages: kept.slice(-params.lines),
      countsByLevel,
      total: all.length,
      truncated: out.truncated || kept.length > params.lines,
      format,
    };
  },
});
