import type { Finding, RunbookDefinition } from '@sonde/pack-sdk';

interface ListResult {
  containers: Array<{ names: string[]; state: string; health: string | null; exitCode: number | null; status: string }>;
}
interface InfoResult {
  serverVersion: string;
  warnings: string[];
}

function stepError(results: Record<string, unknown>, probe: string): Finding | undefined {
  const value = results[probe];
  if (value === undefined) return { severity: 'warning', summary: `${probe} returned nothing`, probe };
  if (typeof value === 'object' && value !== null && 'error' in value) {
    const error = (value as { error: { message?: string } | string }).error;
    const message = typeof error === 'string' ? error : (error.message ?? 'unknown error');
    // Without a daemon nothing else can be checked: that is the finding.
    const severity = /daemon is not running/.test(message) ? 'critical' : 'warning';
    return { severity, summary: `${probe} failed: ${message}`.slice(0, 300), probe };
  }
  return undefined;
}

const name = (c: { names: string[] }): string => c.names[0] ?? '?';

export function evaluateContainers(result: ListResult): Finding {
  const unhealthy = result.containers.filter((c) => c.health === 'unhealthy');
  const restarting = result.containers.filter((c) => c.state === 'restarting');
  const crashed = result.containers.filter((c) => c.state === 'exited' && c.exitCode !== null && c.exitCode !== 0);
  if (unhealthy.length || restarting.length) {
    const list = [...unhealthy, ...restarting].map(name).join(', ');
    return { severity: 'critical', summary: `unhealthy or restarting containers: ${list}`.slice(0, 300), probe: 'containers.list' };
  }
  if (crashed.length) {
    return {
      severity: 'warning',
      summary: `exited with a non-zero code: ${crashed.map((c) => `${name(c)} (${c.exitCode})`).join(', ')}`.slice(0, 300),
      probe: 'containers.list',
    };
  }
  const running = result.containers.filter((c) => c.state === 'running').length;
  return { severity: 'ok', summary: `${running} running, none unhealthy, restarting or crashed`, probe: 'containers.list' };
}

export function evaluateDaemon(result: InfoResult): Finding {
  if (result.warnings.length)
    return { severity: 'warning', summary: `docker ${result.serverVersion}: ${result.warnings[0]}`.slice(0, 300), probe: 'daemon.info' };
  return { severity: 'ok', summary: `docker ${result.serverVersion} daemon reachable, no warnings`, probe: 'daemon.info' };
}

export const containersRunbook: RunbookDefinition = {
  category: 'containers',
  description: 'Are the containers healthy? Daemon reachable and without warnings; no unhealthy, restarting or crashed containers.',
  steps: [{ probe: 'daemon.info' }, { probe: 'containers.list', params: { all: true } }],
  evaluate(results) {
    return [
      stepError(results, 'daemon.info') ?? evaluateDaemon(results['daemon.info'] as InfoResult),
      stepError(results, 'containers.list') ?? evaluateContainers(results['containers.list'] as ListResult),
    ];
  },
};
