/** Parser for `systemctl list-timers --all --plain --no-legend --full`. */

export interface TimerRow {
  next: string | null;
  left: string | null;
  last: string | null;
  passed: string | null;
  unit: string;
  activates: string;
}

const WHEN = String.raw`(?:n\/a|-|\w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?: \S+)?)`;
const ROW = new RegExp(String.raw`^(${WHEN})\s+(n\/a|-|.+? left)\s+(${WHEN})\s+(n\/a|-|.+? ago)\s+(\S+)\s+(\S+)$`);

const na = (value: string): string | null => (value === 'n/a' || value === '-' ? null : value);

export function parseTimers(output: string): TimerRow[] {
  const rows: TimerRow[] = [];
  for (const line of output.split('\n')) {
    const m = ROW.exec(line.trim());
    if (!m) continue;
    rows.push({ next: na(m[1]), left: na(m[2]), last: na(m[3]), passed: na(m[4]), unit: m[5], activates: m[6] });
  }
  return rows;
}
