import { PRIORITY_NAMES, type PriorityName } from './journal.js';

/** Parsers for `dmesg --json` (util-linux >= 2.38) and plain `dmesg` text. */

export interface KernelMessage {
  timeSeconds: number | null;
  level: PriorityName | null;
  message: string;
}

interface DmesgJson {
  dmesg?: Array<{ pri?: unknown; time?: unknown; msg?: unknown }>;
}

export function parseDmesgJson(text: string): KernelMessage[] {
  const data = JSON.parse(text) as DmesgJson;
  if (!Array.isArray(data.dmesg)) throw new Error('dmesg --json did not return a "dmesg" array');
  return data.dmesg.map((entry) => ({
    timeSeconds: typeof entry.time === 'number' ? entry.time : null,
    // `pri` is the syslog prival: facility * 8 + level.
    level: typeof entry.pri === 'number' ? PRIORITY_NAMES[entry.pri & 7] : null,
    message: typeof entry.msg === 'string' ? entry.msg : '',
  }));
}

export function parseDmesgText(text: string): KernelMessage[] {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const match = /^\[\s*(\d+\.\d+)\]\s?(.*)$/.exec(line);
      return match ? { timeSeconds: Number(match[1]), level: null, message: match[2] } : { timeSeconds: null, level: null, message: line };
    });
}

export function dmesgNotPermitted(stderr: string): boolean {
  return /read kernel buffer failed: Operation not permitted/.test(stderr);
}

export function dmesgLacksJson(stderr: string): boolean {
  return /unrecognized option '--json'|invalid option/.test(stderr);
}
