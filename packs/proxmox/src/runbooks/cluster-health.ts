import type { Finding, RunbookDefinition } from '@sonde/pack-sdk';

interface ClusterResult {
  cluster: { name: string; quorate: boolean } | null;
  nodes: Array<{ name: string; online: boolean }>;
  offline: number;
}
interface NodesResult {
  nodes: Array<{ node: string; status: string; memPercent: number | null; rootPercent: number | null }>;
}
interface TasksResult {
  failed: number;
  tasks: Array<{ type: string; id: string; node: string; status: string | null }>;
}

function stepError(results: Record<string, unknown>, probe: string): Finding | undefined {
  const value = results[probe];
  if (value === undefined) return { severity: 'warning', summary: `${probe} returned nothing`, probe };
  if (typeof value === 'object' && value !== null && 'error' in value) {
    const error = (value as { error: { message?: string } | string }).error;
    return {
      severity: 'critical',
      summary: `${probe} failed: ${typeof error === 'string' ? error : (error.message ?? 'unknown error')}`.slice(0, 300),
      probe,
    };
  }
  return undefined;
}

export function evaluateCluster(result: ClusterResult): Finding {
  const offline = result.nodes.filter((n) => !n.online).map((n) => n.name);
  if (result.cluster && !result.cluster.quorate) {
    return {
      severity: 'critical',
      summary: `cluster ${result.cluster.name} has lost quorum (offline: ${offline.join(', ') || 'none'})`.slice(0, 300),
      probe: 'cluster.status',
    };
  }
  if (offline.length > 0)
    return { severity: 'critical', summary: `node(s) offline: ${offline.join(', ')}`.slice(0, 300), probe: 'cluster.status' };
  return {
    severity: 'ok',
    summary: result.cluster ? `cluster ${result.cluster.name} quorate, ${result.nodes.length} node(s) online` : 'standalone node online',
    probe: 'cluster.status',
  };
}

export function evaluateNodes(result: NodesResult): Finding {
  const full = result.nodes.filter((n) => (n.memPercent ?? 0) >= 90 || (n.rootPercent ?? 0) >= 90);
  if (full.length > 0) {
    const list = full.map((n) => `${n.node} mem ${n.memPercent ?? '?'}% root ${n.rootPercent ?? '?'}%`).join(', ');
    return { severity: 'warning', summary: `node(s) at ≥ 90% memory or root disk: ${list}`.slice(0, 300), probe: 'nodes.list' };
  }
  return { severity: 'ok', summary: 'no node above 90% memory or root disk', probe: 'nodes.list' };
}

export function evaluateTasks(result: TasksResult): Finding {
  if (result.failed === 0) return { severity: 'ok', summary: 'no failed tasks in the recent task list', probe: 'tasks.recent' };
  const first = result.tasks[0];
  const example = first ? ` e.g. ${first.type} ${first.id} on ${first.node}: ${first.status ?? ''}` : '';
  return { severity: 'warning', summary: `${result.failed} failed task(s) recently;${example}`.slice(0, 300), probe: 'tasks.recent' };
}

export const clusterHealthRunbook: RunbookDefinition = {
  category: 'virtualization',
  description: 'Is the Proxmox cluster healthy? Quorum and offline nodes, nodes near full memory or root disk, recently failed tasks.',
  steps: [{ probe: 'cluster.status' }, { probe: 'nodes.list' }, { probe: 'tasks.recent', params: { onlyFailed: true, limit: 10 } }],
  evaluate(results) {
    return [
      stepError(results, 'cluster.status') ?? evaluateCluster(results['cluster.status'] as ClusterResult),
      stepError(results, 'nodes.list') ?? evaluateNodes(results['nodes.list'] as NodesResult),
      stepError(results, 'tasks.recent') ?? evaluateTasks(results['tasks.recent'] as TasksResult),
    ];
  },
};
