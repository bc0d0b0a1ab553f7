/** Parser for the `cpu` lines of /proc/stat and the usage between two samples. */

export interface CpuTimes {
  cpu: string;
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

export function parseProcStat(text: string): CpuTimes[] {
  const out: CpuTimes[] = [];
  for (const line of text.split('\n')) {
    const match = /^(cpu\d*)\s+(.*)$/.exec(line);
    if (!match) continue;
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = match[2]
      .trim()
      .split(/\s+/)
      .map(Number);
    out.push({ cpu: match[1], user, nice, system, idle, iowait, irq, softirq, steal });
  }
  return out;
}

export interface CpuUsage {
  cpu: string;
  usagePercent: number;
  userPercent: number;
  systemPercent: number;
  iowaitPercent: number;
  stealPercent: number;
  idlePercent: number;
}

const round1 = (value: number): number => Math.round(value * 10) / 10;

function total(t: CpuTimes): number {
  return t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
}

/** Percentages of time spent between two samples; all zero when no time passed. */
export function cpuUsageBetween(before: CpuTimes, after: CpuTimes): CpuUsage {
  const span = total(after) - total(before);
  const pct = (delta: number): number => (span > 0 ? round1((delta / span) * 100) : 0);
  const idle = after.idle - before.idle + (after.iowait - before.iowait);
  return {
    cpu: after.cpu,
    usagePercent: span > 0 ? round1(100 - (idle / span) * 100) : 0,
    userPercent: pct(after.user + after.nice - before.user - before.nice),
    systemPercent: pct(after.system + after.irq + after.softirq - before.system - before.irq - before.softirq),
    iowaitPercent: pct(after.iowait - before.iowait),
    stealPercent: pct(after.steal - before.steal),
    idlePercent: pct(after.idle - before.idle),
  };
}
