import { z } from 'zod';

/** The product's answer to GET /api/health, as far as the pack relies on it (extra fields are ignored). */
export const HealthAnswerSchema = z.object({
  status: z.string(),
  version: z.string().optional(),
  components: z.record(z.string(), z.object({ status: z.string() })).optional(),
});
export type HealthAnswer = z.infer<typeof HealthAnswerSchema>;

/** What the probe returns. The manifest's result schema and the TypeScript type both come from this one definition. */
export const HealthSchema = z.object({
  status: z
    .enum(['up', 'degraded', 'down'])
    .describe('up: everything up; degraded: the service is up but a component is not; down otherwise.'),
  version: z.string().nullable().describe('Product version, when the service reports it.'),
  components: z.array(z.object({ name: z.string(), up: z.boolean() })).describe('Each component the service reports, sorted by name.'),
});
export type Health = z.infer<typeof HealthSchema>;

export function toHealth(answer: HealthAnswer): Health {
  const components = Object.entries(answer.components ?? {})
    .map(([name, component]) => ({ name, up: component.status.toUpperCase() === 'UP' }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const up = answer.status.toUpperCase() === 'UP';
  return {
    status: !up ? 'down' : components.every((component) => component.up) ? 'up' : 'degraded',
    version: answer.version ?? null,
    components,
  };
}
