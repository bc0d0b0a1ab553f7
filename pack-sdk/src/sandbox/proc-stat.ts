import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';

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

function parseStat(text: string): StatFields {
  // The command name is in parentheses and may contain spaces: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  const ppid = Number(fields[1]);
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { ppid, cpuMs: (ticks * 1000) / TICKS_PER_SECOND };
}

function readStat(pid: number): StatFields | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return parseStat(text);
}

export function cpuTimeMs(pid: number): number | undefined {
  return readStat(pid)?.cpuMs;
}

/** A stat line is about 300 bytes; 52 fields of at most 20 digits and a 16-byte name stay well under this. */
const STAT_BYTES = 4096;

/**
 * CPU time of one process from its `/proc/<pid>/stat` kept open: each reading is one `pread` at offset 0 (the kernel
 * writes the line afresh for it), where `readFileSync` opens, stats, reads and closes the file. The sandbox read a
 * pack process's CPU at the start and at the end of every run, which made those four system calls 5 % of the agent's
 * CPU per call (now once per run, at its start, and once per monitor tick while runs are in flight). The descriptor belongs to the process, not to its number: once the process is gone a reading fails
 * (ESRCH) even when the number is reused, and the reader reports undefined.
 */
export class ProcessCpu {
  private fd: number | undefined;
  private readonly buffer = Buffer.allocUnsafe(STAT_BYTES);

  constructor(readonly pid: number) {
    try {
      this.fd = openSync(`/proc/${pid}/stat`, 'r');
    } catch {
      this.fd = undefined;
    }
  }

  /** User + system CPU so far, in ms; undefined off Linux or once the process is gone. */
  ms(): number | undefined {
    if (this.fd === undefined) return undefined;
    let length: number;
    try {
      length = readSync(this.fd, this.buffer, 0, STAT_BYTES, 0);
    } catch {
      return undefined;
    }
    if (length === 0) return undefined;
    return parseStat(this.buffer.toString('latin1', 0, length)).cpuMs;
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = undefined;
  }
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
