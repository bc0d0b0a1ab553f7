/** Parser for `journalctl --output=json`: one JSON object per line. */

export const PRIORITY_NAMES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;
export type PriorityName = (typeof PRIORITY_NAMES)[number];

export interface JournalEntry {
  time: string | null;
  unit: string | null;
  identifier: string | null;
  pid: number | null;
  priority: PriorityName | null;
  hostname: string | null;
  message: string;
}

/** MESSAGE is a string, an array of bytes when not valid UTF-8, or null when too large. */
function decodeField(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((b) => typeof b === 'number')) return Buffer.from(value).toString('utf8');
  return null;
}

export function parseJournalLine(line: string): JournalEntry | undefined {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof record !== 'object' || record === null) return undefined;
  const micros = decodeField(record.__REALTIME_TIMESTAMP);
  const priority = decodeField(record.PRIORITY);
  const pid = decodeField(record._PID);
  return {
    time: micros && /^\d+$/.test(micros) ? new Date(Number(BigInt(micros) / 1000n)).toISOString() : null,
    unit: decodeField(record._SYSTEMD_UNIT) ?? decodeField(record.UNIT),
    identifier: decodeField(record.SYSLOG_IDENTIFIER),
    pid: pid && /^\d+$/.test(pid) ? Number(pid) : null,
    priority: priority && /^[0-7]$/.test(priority) ? PRIORITY_NAMES[Number(priority)] : null,
    hostname: decodeField(record._HOSTNAME),
    message: decodeField(record.MESSAGE) ?? '',
  };
}

export function parseJournal(output: string): { entries: JournalEntry[]; unparsed: number } {
  const entries: JournalEntry[] = [];
  let unparsed = 0;
  for (const line of output.split('\n')) {
    if (!line.trim()) continue;
    const entry = parseJournalLine(line);
    if (entry) entries.push(entry);
    else unparsed += 1;
  }
  return { entries, unparsed };
}

/** journalctl tells users outside systemd-journal/adm that they see only their own entries. */
export function journalIsLimited(stderr: string): boolean {
  return /not seeing messages from other users and the system/.test(stderr);
}

export function journalPermissionDenied(stderr: string): boolean {
  return /No journal files were opened due to insufficient permissions/.test(stderr);
}
