import { z } from 'zod';
import { sampleValue } from '../api.js';

/** GET /api/v1/alerts → data.alerts[] (Prometheus HTTP API). */
export const RawAlerts = z.object({
  alerts: z.array(
    z.object({
      labels: z.record(z.string(), z.string()),
      annotations: z.record(z.string(), z.string()).default({}),
      state: z.enum(['firing', 'pending', 'inactive']),
      activeAt: z.string().optional(),
      value: z.string().optional(),
    }),
  ),
});

export const AlertSchema = z.object({
  name: z.string(),
  state: z.enum(['firing', 'pending', 'inactive']),
  severity: z.string().nullable(),
  activeAt: z.string().nullable(),
  value: z.number().nullable(),
  summary: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
});

export type Alert = z.infer<typeof AlertSchema>;

export function toAlerts(raw: z.infer<typeof RawAlerts>): Alert[] {
  return raw.alerts.map((alert) => ({
    name: alert.labels.alertname ?? '(unnamed)',
    state: alert.state,
    severity: alert.labels.severity ?? null,
    activeAt: alert.activeAt ?? null,
    value: alert.value === undefined ? null : sampleValue(alert.value),
    summary: alert.annotations.summary ?? alert.annotations.description ?? null,
    labels: alert.labels,
  }));
}
