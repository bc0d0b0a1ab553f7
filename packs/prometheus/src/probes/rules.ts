import { defineProbe, expectShape } from '@sonde/pack-sdk';
import { z } from 'zod';
import { API_PATHS, getData } from '../api.js';
import { RawRules, RuleGroupSchema, RuleProblemSchema, summariseRules } from '../parsers/rules.js';

export const rules = defineProbe({
  name: 'rules',
  description:
    'Alerting and recording rule groups: per group the file, interval, rule counts, evaluation time; rules whose evaluation fails (health err, with the error) and alerting rules currently firing or pending.',
  params: z.strictObject({
    type: z.enum(['alert', 'record', 'all']).default('all'),
  }),
  result: z.object({
    groups: z.array(RuleGroupSchema),
    totals: z.object({ groups: z.number().int(), alerting: z.number().int(), recording: z.number().int(), unhealthy: z.number().int() }),
    unhealthy: z.array(RuleProblemSchema),
    active: z.array(RuleProblemSchema),
  }),
  timeoutMs: 15_000,
  openWorld: true,
  async handler(params, ctx) {
    const { data } = await getData(ctx, API_PATHS.rules, params.type === 'all' ? undefined : { type: params.type });
    const summary = summariseRules(expectShape(RawRules, data, 'Prometheus rules'));
    return {
      ...summary,
      totals: {
        groups: summary.groups.length,
        alerting: summary.groups.reduce((n, g) => n + g.alerting, 0),
        recording: summary.groups.reduce((n, g) => n + g.recording, 0),
        unhealthy: summary.unhealthy.length,
      },
    };
  },
});
