import { LEVELS, type Level } from '../params.js';

/** Parser for nginx error log lines. */

export interface ErrorEntry {
  time: string | null;
  level: Level;
  pid: number;
  connection: number | null;
  message: string;
  client: string | null;
  server: string | null;
  request: string | null;
  host: string | null;
}

// 2026/11/24 00:29:08 [error] 9124#9124: *2 open() "/x" failed (2: No such file or directory), client: 127.0.0.1, server: , request: "GET /x HTTP/1.1", host: "h"
const LINE = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d:\d\d:\d\d) \[(\w+)\] (\d+)#\d+: (?:\*(\d+) )?(.*)$/;

function field(rest: string, name: string): string | null {
  const m = new RegExp(`, ${name}: (?:"((?:[^"\\\\]|\\\\.)*)"|([^,]*))`).exec(rest);
  if (!m) return null;
  const value = m[1] ?? m[2]?.trim() ?? '';
  return value === '' ? null : value;
}

export function parseErrorLine(line: string): ErrorEntry | undefined {
  const m = LINE.exec(line);
  if (!m || !(LEVELS as readonly string[]).includes(m[5])) return undefined;
  const body = m[8];
  const contextStart = body.search(/, client: /);
  return {
    // Error log times are local time without an offset; keep them as written.
    time: `${m[1]}-${m[2]}-${m[3]}T${m[4]}`,
    level: m[5] as Level,
    pid: Number(m[6]),
    connection: m[7] ? Number(m[7]) : null,
    message: contextStart >= 0 ? body.slice(0, contextStart) : body,
    client: field(body, 'client'),
    server: field(body, 'server'),
    request: field(body, 'request'),
    host: field(body, 'host'),
  };
}
