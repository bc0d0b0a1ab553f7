/** Splits a log tail into lines and reads the classic syslog prefix where present. */

export interface LogLine {
  time: string | null;
  host: string | null;
  program: string | null;
  pid: number | null;
  message: string;
}

// "Nov 24 00:29:08 host prog[123]: msg" (BSD) or "2026-11-24T00:29:08.123+00:00 host prog[123]: msg" (RFC 3339).
const SYSLOG =
  /^((?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)|(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?)) (\S+) ([^\s:[]+)(?:\[(\d+)\])?: ?(.*)$/;

export function parseLogLine(line: string): LogLine {
  const m = SYSLOG.exec(line);
  if (!m) return { time: null, host: null, program: null, pid: null, message: line };
  return { time: m[1], host: m[2], program: m[3], pid: m[4] ? Number(m[4]) : null, message: m[5] };
}

/** The last `count` complete lines; a read that started mid-file may begin with a partial line. */
export function lastLines(content: string, count: number, startedMidFile: boolean): string[] {
  const lines = content.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (startedMidFile && lines.length > 0) lines.shift();
  return lines.slice(-count);
}
