import { defineProbe, expectShape } from '@sonde/pack-sdk';
import { z } from 'zod';
import { API_PATHS, getData } from '../api.js';
import { JobName, Limit } from '../params.js';
import { JobSummarySchema, RawTargets, summariseJobs, TargetSchema, toTarget } from '../parsers/targets.js';

export const targets = defineProbe({
  name: 'targets',
  description:
    'Scrape targets and their health: up/down/unknown counts per job, totals, and each target (job, instance, scrape URL, health, last error, last scrape and its duration). Use onlyUnhealthy to list just the failing ones.',
  params: z.strictObject({
    job: JobName.optional().describe('Only this job.'),
    onlyUnhealthy: z.boolean().default(false).describe('List only targets that are not up (counts still cover all).'),
    limit: Limit(200, 2000).describe('Maximum targets listed.'),
  }),
  result: z.object({
    totals: z.object({ up: z.number().int(), down: z.number().int(), unknown: z.number().int() }),
    jobs: z.array(JobSummarySchema),
    targets: z.array(TargetSchema),
    droppedTargets: z.number().int().describe('Targets dropped by relabelling.'),
    truncated: z.boolean(),
  }),
  timeoutMs: 15_000,
  openWorld: true,
  async handler(params, ctx) {
    const { data } = await getData(ctx, API_PATHS.targets, { state: 'any' });
    const raw = expectShape(RawTargets, data, 'Prometheus targets');
    const all = raw.activeTargets.map(toTarget).filter((t) => !params.job || t.job === params.job);
    const jobs = summariseJobs(all);
    const listed = params.onlyUnhealthy ? all.filter((t) => t.health !== 'up') : all;
    return {
      totals: {
        up: jobs.reduce((n, j) => n + j.up, 0),
        down: jobs.reduce((n, j) => n + j.down, 0),
        unknown: jobs.reduce((n, j) => n + j.unknown, 0),
      },
      jobs,
      targets: listed.slice(0, params.limit),
      droppedTargets: raw.droppedTargets.length,
      truncated: listed.length > params.limit,
    };
  },
});
