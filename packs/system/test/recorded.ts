import { readFileSync } from 'node:fs';
import path from 'node:path';

const dir = path.join(import.meta.dirname, 'recorded');

/** Reads a recorded real output from test/recorded (see recorded/README.md). */
export function recorded(name: string): string {
  return readFileSync(path.join(dir, name), 'utf8');
}

/** Real files the procfs probes read, as recorded on the build machine (/proc/net/dev is read with cat). */
export function procFixtures(): Record<string, string> {
  return {
    '/proc/meminfo': recorded('proc-meminfo.txt'),
    '/proc/loadavg': recorded('proc-loadavg.txt'),
    '/proc/stat': recorded('proc-stat-1.txt'),
    '/proc/uptime': recorded('proc-uptime.txt'),
    '/proc/cpuinfo': recorded('proc-cpuinfo.txt'),
  };
}
