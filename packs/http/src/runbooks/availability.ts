import type { Finding, RunbookDefinition } from '@sonde/pack-sdk';

interface HealthResult {
  reachable: boolean;
  status: number | null;
  ok: boolean;
  latencyMs: number;
  error: string | null;
}

export function evaluateHealth(result: HealthResult | { error: unknown } | undefined): Finding {
  if (!result || !('reachable' in result)) {
    return { severity: 'critical', summary: 'the health probe failed to run', probe: 'health' };
  }
  if (!result.reachable)
    return { severity: 'critical', summary: `unreachable: ${result.error ?? 'unknown error'}`.slice(0, 300), probe: 'health' };
  if (!result.ok) return { severity: 'critical', summary: `answered ${result.status}`, probe: 'health' };
  if (result.latencyMs > 2000)
    return { severity: 'warning', summary: `answered ${result.status} but took ${result.latencyMs} ms`, probe: 'health' };
  return { severity: 'ok', summary: `answered ${result.status} in ${result.latencyMs} ms`, probe: 'health' };
}

export const availabilityRunbook: RunbookDefinition = {
  category: 'availability',
  description: 'Does the endpoint answer its root path with 2xx, quickly?',
  steps: [{ probe: 'health' }],
  evaluate(results) {
    return [evaluateHealth(results.health as HealthResult | undefined)];
  },
};
