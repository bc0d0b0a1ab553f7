/** Parsers for `df -P -k` and `df -P -i` (POSIX format, one line per filesystem). */

export interface DfSpaceRow {
  filesystem: string;
  mountpoint: string;
  sizeBytes: number;
  usedBytes: number;
  availableBytes: number;
  usedPercent: number | null;
}

export interface DfInodeRow {
  filesystem: string;
  mountpoint: string;
  inodes: number;
  used: number;
  free: number;
  usedPercent: number | null;
}

// Filesystem names and mount points may contain spaces; the numeric middle anchors the split.
const ROW = /^(.+?)\s+(\d+|-)\s+(\d+|-)\s+(\d+|-)\s+(\d+%|-)\s+(\/.*)$/;

function num(value: string): number {
  return value === '-' ? 0 : Number(value);
}

function percent(value: string): number | null {
  return value === '-' ? null : Number(value.slice(0, -1));
}

function rows(output: string): RegExpExecArray[] {
  return output
    .split('\n')
    .slice(1)
    .map((line) => ROW.exec(line.trimEnd()))
    .filter((match): match is RegExpExecArray => match !== null);
}

export function parseDfSpace(output: string): DfSpaceRow[] {
  return rows(output).map((m) => ({
    filesystem: m[1],
    mountpoint: m[6],
    sizeBytes: num(m[2]) * 1024,
    usedBytes: num(m[3]) * 1024,
    availableBytes: num(m[4]) * 1024,
    usedPercent: percent(m[5]),
  }));
}

export function parseDfInodes(output: string): DfInodeRow[] {
  return rows(output).map((m) => ({
    filesystem: m[1],
    mountpoint: m[6],
    inodes: num(m[2]),
    used: num(m[3]),
    free: num(m[4]),
    usedPercent: percent(m[5]),
  }));
}

/** Kernel and memory-backed filesystems that say nothing about disk space. */
const PSEUDO = /^(?:tmpfs|devtmpfs|udev|overlay|shm|none|proc|sysfs|cgroup2?|squashfs|efivarfs|model_tools_unavailable)$/;

export function isPseudoFilesystem(filesystem: string, sizeUnits: number): boolean {
  return PSEUDO.test(filesystem) || sizeUnits === 0 || filesystem.startsWith('/dev/loop');
}
