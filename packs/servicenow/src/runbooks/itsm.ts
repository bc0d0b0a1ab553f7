import type { Finding, RunbookDefinition } from '@sonde/pack-sdk';

interface IncidentsResult {
  total: number;
  incidents: Array<{ number: string; priorityLevel: number | null; shortDescription: string | null }>;
}
interface ChangesResult {
  hours: number;
  total: number;
  emergency: number;
  changes: Array<{ number: string; type: string | null; start: string | null; shortDescription: string | null }>;
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

export function evaluateIncidents(result: IncidentsResult): Finding {
  const p1 = result.incidents.filter((i) => i.priorityLevel === 1);
  if (p1.length > 0) {
    return {
      severity: 'critical',
      summary: `${p1.length} open P1 incident(s): ${p1.map((i) => `${i.number} ${i.shortDescription ?? ''}`.trim()).join('; ')}`.slice(
        0,
        300,
      ),
      probe: 'incidents.open',
    };
  }
  if (result.total > 0)
    return {
      severity: 'warning',
      summary: `${result.total} open P1/P2 incident(s), e.g. ${result.incidents[0]?.number ?? ''}`.slice(0, 300),
      probe: 'incidents.open',
    };
  return { severity: 'ok', summary: 'no open P1 or P2 incidents', probe: 'incidents.open' };
}

export function evaluateChanges(result: ChangesResult): Finding {
  if (result.emergency > 0) {
    const first = result.changes.find((c) => c.type?.toLowerCase() === 'emergency');
    return {
      severity: 'warning',
      summary:
        `${result.emergency} emergency change(s) in the next ${result.hours} h, e.g. ${first?.number ?? ''} ${first?.shortDescription ?? ''}`
          .trim()
          .slice(0, 300),
      probe: 'changes.upcoming',
    };
  }
  return { severity: 'ok', summary: `${result.total} change(s) planned in the next ${result.hours} h`, probe: 'changes.upcoming' };
}

export const itsmRunbook: RunbookDefinition = {
  category: 'itsm',
  description:
    'What is ServiceNow saying right now? Open P1/P2 incidents and changes planned in the next 24 hours (emergency ones flagged).',
  steps: [
    { probe: 'incidents.open', params: { maxPriority: 2, limit: 10 } },
    { probe: 'changes.upcoming', params: { hours: 24, limit: 10 } },
  ],
  evaluate(results) {
    return [
      stepError(results, 'incidents.open') ?? evaluateIncidents(results['incidents.open'] as IncidentsResult),
      stepError(results, 'changes.upcoming') ?? evaluateChanges(results['changes.upcoming'] as ChangesResult),
    ];
  },
};
