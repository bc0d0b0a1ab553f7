/** Parser for `journalctl --output=json`: one JSON object per line. */

export const PRIORITY_NAMES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;
export type PriorityName = (typeof PRIORITY_NAMES)[number];

export interface JournalEntry {
  time: string | null;
  unit: string | null;
  identifier: string | null;
  pid: number | null;
  priority: PriorityName | null;
  message: string;
}

/** MESSAGE is a string, an array of bytes when not valid UTF-8, or null when too large. */
function decodeField(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((b) => typeof b === 'number')) return Buffer.from(value).toString('utf8');
  return null;
}

export function parseJournal(output: string): { entries: JournalEntry[]; unparsed: number } {
  const entries: JournalEntry[] = [];
  let unparsed = 0;
  for (const line of output.split('\n')) {
    if (!line.trim()) continue;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      unparsed += 1;
      continue;
    }
    const micros = decodeField(record.__REALTIME_TIMESTAMP);
    const priority = decodeField(record.PRIORITY);
    const pid = decodeField(record._PID);
    entries.push({
      time: micros && /^\d+$/.test(micros) ? new Date(Number(BigInt(micros) / 1000n)).toISOString() : null,
      unit: decodeField(record._SYSTEMD_UNIT) ?? decodeField(record.UNIT),
      identifier: decodeField(record.SYSLOG_IDENTIFIER),
      pid: pid && /^\d+$/.test(pid) ? Number(pid) : null,
      priority: priority && /^[0-7]$/.test(priority) ? PRIORITY_NAMES[Number(priority)] : null,
      message: decodeField(record.MESSAGE) ?? '',
    });
  }
  return { entries, unparsed };
}

export function journalIsLimited(stderr: string): boolean {
  return /not seeing messages from other users and the system/.test(stderr);
}
