/** Parsers for /proc/loadavg, /proc/uptime and the processor count in /proc/cpuinfo. */

export interface LoadAverage {
  load1: number;
  load5: number;
  load15: number;
  runnable: number;
  processes: number;
}

export function parseLoadavg(text: string): LoadAverage {
  const match = /^(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+)\/(\d+)/.exec(text.trim());
  if (!match) throw new Error(`unexpected /proc/loadavg format: ${text.slice(0, 80)}`);
  return {
    load1: Number(match[1]),
    load5: Number(match[2]),
    load15: Number(match[3]),
    runnable: Number(match[4]),
    processes: Number(match[5]),
  };
}

export function countProcessors(cpuinfo: string): number {
  return cpuinfo.split('\n').filter((line) => /^processor\s*:/.test(line)).length;
}

export function parseUptime(text: string): { uptimeSeconds: number; idleSeconds: number } {
  const match = /^(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)/.exec(text.trim());
  if (!match) throw new Error(`unexpected /proc/uptime format: ${text.slice(0, 80)}`);
  return { uptimeSeconds: Number(match[1]), idleSeconds: Number(match[2]) };
}
