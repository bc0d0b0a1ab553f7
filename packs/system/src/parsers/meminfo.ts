/** Parser for /proc/meminfo: `Key:   value kB` lines. */

export function parseMeminfo(text: string): Record<string, number> {
  const values: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+kB)?$/.exec(line.trim());
    if (match) values[match[1]] = Number(match[2]) * (line.trim().endsWith('kB') ? 1024 : 1);
  }
  return values;
}

export interface MemorySummary {
  totalBytes: number;
  availableBytes: number;
  freeBytes: number;
  buffersBytes: number;
  cachedBytes: number;
  usedBytes: number;
  usedPercent: number;
  swapTotalBytes: number;
  swapFreeBytes: number;
  swapUsedPercent: number;
}

const round1 = (value: number): number => Math.round(value * 10) / 10;

export function summariseMemory(values: Record<string, number>): MemorySummary {
  const total = values.MemTotal ?? 0;
  const free = values.MemFree ?? 0;
  const buffers = values.Buffers ?? 0;
  const cached = (values.Cached ?? 0) + (values.SReclaimable ?? 0);
  // MemAvailable exists since Linux 3.14; older kernels get the classic estimate.
  const available = values.MemAvailable ?? free + buffers + cached;
  const swapTotal = values.SwapTotal ?? 0;
  const swapFree = values.SwapFree ?? 0;
  return {
    totalBytes: total,
    availableBytes: available,
    freeBytes: free,
    buffersBytes: buffers,
    cachedBytes: cached,
    usedBytes: total - available,
    usedPercent: total > 0 ? round1(((total - available) / total) * 100) : 0,
    swapTotalBytes: swapTotal,
    swapFreeBytes: swapFree,
    swapUsedPercent: swapTotal > 0 ? round1(((swapTotal - swapFree) / swapTotal) * 100) : 0,
  };
}
