import { defineProbe, expectShape } from '@sonde/pack-sdk';
import { z } from 'zod';
import { API_PATHS, getData } from '../api.js';
import { Limit } from '../params.js';
import { AlertSchema, RawAlerts, toAlerts } from '../parsers/alerts.js';

export const alerts = defineProbe({
  name: 'alerts',
  description:
    'Active alerts as Prometheus evaluates them (firing and pending), with name, severity label, since when, value and summary annotation; counts per state and per severity.',
  params: z.strictObject({
    state: z.enum(['firing', 'pending', 'all']).default('all'),
    limit: Limit(100, 1000),
  }),
  result: z.object({
    firing: z.number().int(),
    pending: z.number().int(),
    bySeverity: z.record(z.string(), z.number().int()).describe('Firing alerts per severity label ("none" without one).'),
    alerts: z.array(AlertSchema),
    truncated: z.boolean(),
  }),
  timeoutMs: 15_000,
  openWorld: true,
  async handler(params, ctx) {
    const { data } = await getData(ctx, API_PATHS.alerts);
    const all = toAlerts(expectShape(RawAlerts, data, 'Prometheus alerts'));
    const bySeverity: Record<string, number> = {};
    for (const alert of all)
      if (alert.state === 'firing') bySeverity[alert.severity ?? 'none'] = (bySeverity[alert.severity ?? 'none'] ?? 0) + 1;
    const listed = params.state === 'all' ? all : all.filter((a) => a.state === params.state);
    return {
      firing: all.filter((a) => a.state === 'firing').length,
      pending: all.filter((a) => a.state === 'pending').length,
      bySeverity,
      alerts: listed.slice(0, params.limit),
      truncated: listed.length > params.limit,
    };
  },
});
