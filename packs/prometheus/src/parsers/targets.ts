import { z } from 'zod';

/** One entry of `data.activeTargets` in GET /api/v1/targets (Prometheus HTTP API). */
export const RawTarget = z.object({
  labels: z.record(z.string(), z.string()),
  scrapePool: z.string(),
  scrapeUrl: z.string(),
  lastError: z.string().default(''),
  lastScrape: z.string(),
  lastScrapeDuration: z.number(),
  health: z.enum(['up', 'down', 'unknown']),
});

export const RawTargets = z.object({
  activeTargets: z.array(RawTarget),
  droppedTargets: z.array(z.unknown()).default([]),
});

export const TargetSchema = z.object({
  job: z.string(),
  instance: z.string(),
  scrapePool: z.string(),
  scrapeUrl: z.string(),
  health: z.enum(['up', 'down', 'unknown']),
  lastError: z.string().nullable(),
  lastScrape: z.string(),
  lastScrapeDurationSeconds: z.number(),
});

export const JobSummarySchema = z.object({ job: z.string(), up: z.number().int(), down: z.number().int(), unknown: z.number().int() });

export type Target = z.infer<typeof TargetSchema>;
export type JobSummary = z.infer<typeof JobSummarySchema>;

export function toTarget(raw: z.infer<typeof RawTarget>): Target {
  return {
    job: raw.labels.job ?? raw.scrapePool,
    instance: raw.labels.instance ?? raw.scrapeUrl,
    scrapePool: raw.scrapePool,
    scrapeUrl: raw.scrapeUrl,
    health: raw.health,
    lastError: raw.lastError ? raw.lastError : null,
    lastScrape: raw.lastScrape,
    lastScrapeDurationSeconds: raw.lastScrapeDuration,
  };
}

/** Up/down/unknown per job, jobs sorted by name. */
export function summariseJobs(targets: readonly Target[]): JobSummary[] {
  const jobs = new Map<string, JobSummary>();
  for (const target of targets) {
    const job = jobs.get(target.job) ?? { job: target.job, up: 0, down: 0, unknown: 0 };
    job[target.health] += 1;
    jobs.set(target.job, job);
  }
  return [...jobs.values()].sort((a, b) => a.job.localeCompare(b.job));
}
