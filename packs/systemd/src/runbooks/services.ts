import type { Finding, RunbookDefinition } from '@sonde/pack-sdk';

interface FailedResult {
  units: Array<{ unit: string }>;
  count: number;
}
interface ListResult {
  units: Array<{ unit: string; active: string; sub: string }>;
}

function stepError(results: Record<string, unknown>, probe: string): Finding | undefined {
  const value = results[probe];
  if (value === undefined) return { severity: 'warning', summary: `${probe} returned nothing`, probe };
  if (typeof value === 'object' && value !== null && 'error' in value) {
    const error = (value as { error: { message?: string } | string }).error;
    return {
      severity: 'warning',
      summary: `${probe} failed: ${typeof error === 'string' ? error : (error.message ?? 'unknown error')}`.slice(0, 300),
      probe,
    };
  }
  return undefined;
}

export function evaluateFailed(result: FailedResult): Finding {
  if (result.count === 0) return { severity: 'ok', summary: 'no failed units', probe: 'units.failed' };
  return {
    severity: 'critical',
    summary: `${result.count} failed: ${result.units.map((u) => u.unit).join(', ')}`.slice(0, 300),
    probe: 'units.failed',
  };
}

export function evaluateRestarting(result: ListResult): Finding {
  const looping = result.units.filter((u) => u.sub === 'auto-restart' || u.active === 'activating');
  if (looping.length === 0) return { severity: 'ok', summary: 'no services stuck starting or restarting', probe: 'units.list' };
  return {
    severity: 'warning',
    summary: `starting or restarting: ${looping.map((u) => u.unit).join(', ')}`.slice(0, 300),
    probe: 'units.list',
  };
}

export const servicesRunbook: RunbookDefinition = {
  category: 'services',
  description: 'Are services up? Failed units are critical; services stuck activating or in auto-restart are warnings.',
  steps: [{ probe: 'units.failed' }, { probe: 'units.list', params: { type: 'service' } }],
  evaluate(results) {
    return [
      stepError(results, 'units.failed') ?? evaluateFailed(results['units.failed'] as FailedResult),
      stepError(results, 'units.list') ?? evaluateRestarting(results['units.list'] as ListResult),
    ];
  },
};
