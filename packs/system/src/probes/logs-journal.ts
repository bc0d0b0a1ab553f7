import { defineProbe, SondeError } from '@sonde/pack-sdk';
import { z } from 'zod';
import { UnitParam } from '../params.js';
import { journalIsLimited, journalPermissionDenied, parseJournal, PRIORITY_NAMES } from '../parsers/journal.js';

export const logsJournal = defineProbe({
  name: 'logs.journal',
  description:
    'Latest systemd journal entries (newest last), optionally for one unit, within the last N minutes, at or above a priority. Needs group systemd-journal or adm for system entries.',
  params: z.strictObject({
    unit: UnitParam.optional(),
    sinceMinutes: z.number().int().min(1).max(43_200).optional(),
    priority: z.enum(PRIORITY_NAMES).optional().describe('Show this level and more severe ones.'),
    lines: z.number().int().min(1).max(1000).default(100),
  }),
  result: z.object({
    entries: z.array(
      z.object({
        time: z.string().nullable(),
        unit: z.string().nullable(),
        identifier: z.string().nullable(),
        pid: z.number().int().nullable(),
        priority: z.enum(PRIORITY_NAMES).nullable(),
        hostname: z.string().nullable(),
        message: z.string(),
      }),
    ),
    limitedView: z.boolean().describe('True when the agent user only sees its own entries (not in systemd-journal/adm).'),
    truncated: z.boolean(),
    unparsedLines: z.number().int(),
  }),
  timeoutMs: 20_000,
  maxOutputBytes: 4 * 1024 * 1024,
  async handler(params, ctx) {
    const args = ['--no-pager', '--output=json', `--lines=${params.lines}`];
    if (params.unit) args.push(`--unit=${params.unit}`);
    if (params.sinceMinutes) args.push(`--since=-${params.sinceMinutes}min`);
    if (params.priority) args.push(`--priority=${PRIORITY_NAMES.indexOf(params.priority)}`);
    const out = await ctx.exec('journalctl', args, { okExitCodes: [0, 1] });
    if (journalPermissionDenied(out.stderr)) {
      throw new SondeError(
        'SONDE_ERR_PERMISSION_DENIED',
        'journalctl: the agent user may not read the journal; add it to the systemd-journal group',
      );
    }
    if (out.exitCode !== 0)
      throw new SondeError('SONDE_ERR_COMMAND_FAILED', `journalctl failed: ${out.stderr.trim().split('\n')[0] ?? ''}`);
    const parsed = parseJournal(out.stdout);
    return { entries: parsed.entries, limitedView: journalIsLimited(out.stderr), truncated: out.truncated, unparsedLines: parsed.unparsed };
  },
});
