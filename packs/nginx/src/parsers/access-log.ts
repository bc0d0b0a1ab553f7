/** Parser for nginx's `combined` access log format. */

export interface AccessEntry {
  remoteAddr: string;
  remoteUser: string | null;
  time: string | null;
  method: string | null;
  path: string | null;
  protocol: string | null;
  request: string;
  status: number;
  bytes: number;
  referrer: string | null;
  userAgent: string | null;
}

// $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
// nginx escapes `"`, `\` and control bytes in variables as \xHH, so quoted fields never contain a bare quote.
const COMBINED = /^(\S+) \S+ (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"/;

const MONTHS: Record<string, string> = {
  Jan: '01',
  Feb: '02',
  Mar: '03',
  Apr: '04',
  May: '05',
  Jun: '06',
  Jul: '07',
  Aug: '08',
  Sep: '09',
  Oct: '10',
  Nov: '11',
  Dec: '12',
};

/** `24/Nov/2026:00:29:08 +0000` → ISO 8601 in UTC. */
export function parseTimeLocal(value: string): string | null {
  const m = /^(\d\d)\/(\w{3})\/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$/.exec(value);
  if (!m || !MONTHS[m[2]]) return null;
  const date = new Date(`${m[3]}-${MONTHS[m[2]]}-${m[1]}T${m[4]}:${m[5]}:${m[6]}${m[7]}${m[8]}:${m[9]}`);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export function unescapeNginx(value: string): string {
  return value.replace(/\\x([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

const dash = (value: string): string | null => (value === '-' || value === '' ? null : value);

export function parseAccessLine(line: string): AccessEntry | undefined {
  const m = COMBINED.exec(line);
  if (!m) return undefined;
  const request = unescapeNginx(m[4]);
  const parts = /^([A-Z]{1,20}) (\S+)(?: (HTTP\/[\d.]+))?$/.exec(request);
  return {
    remoteAddr: m[1],
    remoteUser: dash(m[2]),
    time: parseTimeLocal(m[3]),
    method: parts?.[1] ?? null,
    path: parts?.[2] ?? null,
    protocol: parts?.[3] ?? null,
    request,
    status: Number(m[5]),
    bytes: m[6] === '-' ? 0 : Number(m[6]),
    referrer: dash(unescapeNginx(m[7])),
    userAgent: dash(unescapeNginx(m[8])),
  };
}

export interface AccessSummary {
  statusCounts: Record<string, number>;
  statusClasses: { '1xx': number; '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  totalBytes: number;
}

export function summariseAccess(entries: AccessEntry[]): AccessSummary {
  const statusCounts: Record<string, number> = {};
  const statusClasses = { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
  let totalBytes = 0;
  for (const entry of entries) {
    statusCounts[String(entry.status)] = (statusCounts[String(entry.status)] ?? 0) + 1;
    const cls = `${Math.floor(entry.status / 100)}xx` as keyof typeof statusClasses;
    if (cls in statusClasses) statusClasses[cls] += 1;
    totalBytes += entry.bytes;
  }
  return { statusCounts, statusClasses, totalBytes };
}
