import { z } from 'zod';

/** GET /api/v1/rules → data.groups[] (Prometheus HTTP API). */
const RawRule = z.object({
  name: z.string(),
  type: z.enum(['alerting', 'recording']),
  health: z.enum(['ok', 'err', 'unknown']),
  lastError: z.string().optional(),
  state: z.enum(['firing', 'pending', 'inactive']).optional(),
  alerts: z.array(z.unknown()).optional(),
  evaluationTime: z.number().optional(),
});

export const RawRules = z.object({
  groups: z.array(
    z.object({
      name: z.string(),
      file: z.string(),
      interval: z.number(),
      rules: z.array(RawRule),
      evaluationTime: z.number().optional(),
      lastEvaluation: z.string().optional(),
    }),
  ),
});

export const RuleGroupSchema = z.object({
  name: z.string(),
  file: z.string(),
  intervalSeconds: z.number(),
  alerting: z.number().int(),
  recording: z.number().int(),
  unhealthy: z.number().int(),
  evaluationTimeSeconds: z.number().nullable(),
  lastEvaluation: z.string().nullable(),
});

export const RuleProblemSchema = z.object({
  group: z.string(),
  name: z.string(),
  type: z.enum(['alerting', 'recording']),
  health: z.enum(['ok', 'err', 'unknown']),
  state: z.enum(['firing', 'pending', 'inactive']).nullable(),
  activeAlerts: z.number().int(),
  lastError: z.string().nullable(),
});

export function summariseRules(raw: z.infer<typeof RawRules>): {
  groups: Array<z.infer<typeof RuleGroupSchema>>;
  unhealthy: Array<z.infer<typeof RuleProblemSchema>>;
  active: Array<z.infer<typeof RuleProblemSchema>>;
} {
  const unhealthy: Array<z.infer<typeof RuleProblemSchema>> = [];
  const active: Array<z.infer<typeof RuleProblemSchema>> = [];
  const groups = raw.groups.map((group) => {
    for (const rule of group.rules) {
      const entry = {
        group: group.name,
        name: rule.name,
        type: rule.type,
        health: rule.health,
        state: rule.state ?? null,
        activeAlerts: rule.alerts?.length ?? 0,
        lastError: rule.lastError ? rule.lastError : null,
      };
      if (rule.health === 'err') unhealthy.push(entry);
      if (rule.state === 'firing' || rule.state === 'pending') active.push(entry);
    }
    return {
      name: group.name,
      file: group.file,
      intervalSeconds: group.interval,
      alerting: group.rules.filter((r) => r.type === 'alerting').length,
      recording: group.rules.filter((r) => r.type === 'recording').length,
      unhealthy: group.rules.filter((r) => r.health === 'err').length,
      evaluationTimeSeconds: group.evaluationTime ?? null,
      lastEvaluation: group.lastEvaluation ?? null,
    };
  });
  return { groups, unhealthy, active };
}
