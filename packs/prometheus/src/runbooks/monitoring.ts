import type { Finding, RunbookDefinition } from '@sonde/pack-sdk';

interface TargetsResult {
  totals: { up: number; down: number; unknown: number };
  jobs: Array<{ job: string; up: number; down: number; unknown: number }>;
}
interface AlertsResult {
  firing: number;
  pending: number;
  alerts: Array<{ name: string; state: string; severity: string | null }>;
}
interface RulesResult {
  totals: { unhealthy: number };
  unhealthy: Array<{ group: string; name: string; lastError: string | null }>;
}

function stepError(results: Record<string, unknown>, probe: string): Finding | undefined {
  const value = results[probe];
  if (value === undefined) return { severity: 'warning', summary: `${probe} returned nothing`, probe };
  if (typeof value === 'object' && value !== null && 'error' in value) {
    const error = (value as { error: { message?: string } | string }).error;
    const message = typeof error === 'string' ? error : (error.message ?? 'unknown error');
    return { severity: 'critical', summary: `${probe} failed: ${message}`.slice(0, 300), probe };
  }
  return undefined;
}

export function evaluateTargets(result: TargetsResult): Finding {
  const deadJobs = result.jobs.filter((j) => j.up === 0 && j.down > 0).map((j) => j.job);
  if (deadJobs.length > 0) {
    return { severity: 'critical', summary: `every target is down in job(s) ${deadJobs.join(', ')}`.slice(0, 300), probe: 'targets' };
  }
  if (result.totals.down > 0) {
    const jobs = result.jobs.filter((j) => j.down > 0).map((j) => `${j.job} ${j.down}/${j.up + j.down + j.unknown}`);
    return { severity: 'warning', summary: `${result.totals.down} target(s) down: ${jobs.join(', ')}`.slice(0, 300), probe: 'targets' };
  }
  return { severity: 'ok', summary: `all ${result.totals.up} target(s) up`, probe: 'targets' };
}

export function evaluateAlerts(result: AlertsResult): Finding {
  const firing = result.alerts.filter((a) => a.state === 'firing');
  if (firing.length === 0) return { severity: 'ok', summary: `no alerts firing (${result.pending} pending)`, probe: 'alerts' };
  const critical = firing.filter((a) => a.severity === 'critical' || a.severity === 'page');
  const names = [...new Set((critical.length ? critical : firing).map((a) => a.name))].join(', ');
  return {
    severity: critical.length > 0 ? 'critical' : 'warning',
    summary: `${result.firing} alert(s) firing${critical.length ? `, ${critical.length} critical` : ''}: ${names}`.slice(0, 300),
    probe: 'alerts',
  };
}

export function evaluateRules(result: RulesResult): Finding {
  if (result.totals.unhealthy === 0) return { severity: 'ok', summary: 'every rule evaluates without error', probe: 'rules' };
  const first = result.unhealthy[0];
  return {
    severity: 'warning',
    summary: `${result.totals.unhealthy} rule(s) fail to evaluate, e.g. ${first?.group}/${first?.name}: ${first?.lastError ?? ''}`.slice(
      0,
      300,
    ),
    probe: 'rules',
  };
}

export const monitoringRunbook: RunbookDefinition = {
  category: 'monitoring',
  description: 'Is monitoring itself healthy and what is it telling us? Targets down per job, firing alerts by severity, rules that fail.',
  steps: [{ probe: 'targets', params: { onlyUnhealthy: true } }, { probe: 'alerts', params: { state: 'firing' } }, { probe: 'rules' }],
  evaluate(results) {
    return [
      stepError(results, 'targets') ?? evaluateTargets(results.targets as TargetsResult),
      stepError(results, 'alerts') ?? evaluateAlerts(results.alerts as AlertsResult),
      stepError(results, 'rules') ?? evaluateRules(results.rules as RulesResult),
    ];
  },
};
