import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time and memory of a pack process, read by the agent from /proc (the
 * pack could lie about its own `process.cpuUsage()`). Linux only; elsewhere
 * every reading is undefined and only the wall-time limit applies.
 */

/** Linux reports utime/stime in USER_HZ, 100 per second on every architecture Node supports. */
const TICKS_PER_SECOND = 100;

interface StatFields {
  ppid: number;
  cpuMs: number;
}

function readStat(pid: number): StatFields | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may contain spaces: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  const ppid = Number(fields[1]);
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { ppid, cpuMs: (ticks * 1000) / TICKS_PER_SECOND };
}

export function cpuTimeMs(pid: number): number | undefined {
  return readStat(pid)?.cpuMs;
}

export function residentBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The process `unshare --fork` started: the one whose parent is `parentPid`. */
export function findChildPid(parentPid: number): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    if (readStat(Number(entry))?.ppid === parentPid) return Number(entry);
  }
  return undefined;
}
