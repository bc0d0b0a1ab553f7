import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { cpuUsageBetween, parseProcStat } from '../parsers/proc-stat.js';
import { readProcFile } from '../proc.js';

const Usage = z.object({
  cpu: z.string(),
  usagePercent: z.number(),
  userPercent: z.number(),
  systemPercent: z.number(),
  iowaitPercent: z.number(),
  stealPercent: z.number(),
  idlePercent: z.number(),
});

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason as Error)), { once: true });
  });
}

export const cpuUsage = defineProbe({
  name: 'cpu.usage',
  description: 'CPU busy % over a short sample of /proc/stat (total and per CPU), split into user, system, iowait and steal.',
  params: z.strictObject({ sampleMs: z.number().int().min(100).max(5000).default(500), perCpu: z.boolean().default(false) }),
  result: z.object({ sampleMs: z.number().int(), cpus: z.number().int().nonnegative(), total: Usage, perCpu: z.array(Usage) }),
  timeoutMs: 10_000,
  async handler(params, ctx) {
    const before = parseProcStat(await readProcFile(ctx, '/proc/stat'));
    await sleep(params.sampleMs, ctx.signal);
    const after = parseProcStat(await readProcFile(ctx, '/proc/stat'));
    const usages = after.flatMap((a) => {
      const b = before.find((x) => x.cpu === a.cpu);
      return b ? [cpuUsageBetween(b, a)] : [];
    });
    const total = usages.find((u) => u.cpu === 'cpu');
    if (!total) throw new Error('/proc/stat has no aggregate cpu line');
    const perCpu = usages.filter((u) => u.cpu !== 'cpu');
    return { sampleMs: params.sampleMs, cpus: perCpu.length, total, perCpu: params.perCpu ? perCpu : [] };
  },
});
