import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { UnitParam } from '../params.js';
import { journalIsLimited, parseJournal, PRIORITY_NAMES } from '../parsers/journal.js';
import { run } from '../systemctl.js';

export const journalQuery = defineProbe({
  name: 'journal.query',
  description:
    'Latest journal entries of one unit (newest last): time, priority, identifier, pid, message; optionally only the last N minutes and at or above a priority. Needs group systemd-journal for system units.',
  params: z.strictObject({
    unit: UnitParam,
    lines: z.number().int().min(1).max(1000).default(100),
    sinceMinutes: z.number().int().min(1).max(43_200).optional(),
    priority: z.enum(PRIORITY_NAMES).optional().describe('This level and more severe ones.'),
  }),
  result: z.object({
    unit: z.string(),
    entries: z.array(
      z.object({
        time: z.string().nullable(),
        unit: z.string().nullable(),
        identifier: z.string().nullable(),
        pid: z.number().int().nullable(),
        priority: z.enum(PRIORITY_NAMES).nullable(),
        message: z.string(),
      }),
    ),
    countsByPriority: z.record(z.string(), z.number().int()),
    limitedView: z.boolean().describe('True when the agent user only sees its own entries (not in systemd-journal).'),
    truncated: z.boolean(),
    unparsedLines: z.number().int(),
  }),
  timeoutMs: 20_000,
  maxOutputBytes: 4 * 1024 * 1024,
  async handler(params, ctx) {
    const args = ['--no-pager', '--output=json', `--lines=${params.lines}`, `--unit=${params.unit}`];
    if (params.sinceMinutes) args.push(`--since=-${params.sinceMinutes}min`);
    if (params.priority) args.push(`--priority=${PRIORITY_NAMES.indexOf(params.priority)}`);
    const out = await run(ctx, 'journalctl', args, 4 * 1024 * 1024);
    const { entries, unparsed } = parseJournal(out.stdout);
    const countsByPriority: Record<string, number> = {};
    for (const entry of entries) if (entry.priority) countsByPriority[entry.priority] = (countsByPriority[entry.priority] ?? 0) + 1;
    return {
      unit: params.unit,
      entries,
      countsByPriority,
      limitedView: journalIsLimited(out.stderr),
      truncated: out.truncated || entries.length >= params.lines,
      unparsedLines: unparsed,
    };
  },
});
