import type { Finding, RunbookDefinition } from '@sonde/pack-sdk';

interface MachinesResult {
  total: number;
  byRegistrationState: Record<string, number>;
  machines: Array<{ name: string; deliveryGroup: string | null; lastDeregistrationReason: string | null }>;
}
interface GroupsResult {
  groups: Array<{
    name: string;
    broken: boolean;
    enabled: boolean | null;
    totalMachines: number | null;
    registeredMachines: number | null;
  }>;
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

export function evaluateMachines(result: MachinesResult): Finding {
  const down = result.machines.length;
  if (down === 0) return { severity: 'ok', summary: `all ${result.total} machine(s) registered`, probe: 'machines.unregistered' };
  const share = result.total ? down / result.total : 1;
  const examples = result.machines
    .slice(0, 3)
    .map((m) => `${m.name}${m.lastDeregistrationReason ? ` (${m.lastDeregistrationReason})` : ''}`)
    .join(', ');
  return {
    severity: share >= 0.2 ? 'critical' : 'warning',
    summary: `${down} of ${result.total} machine(s) not registered (outside maintenance): ${examples}`.slice(0, 300),
    probe: 'machines.unregistered',
  };
}

export function evaluateGroups(result: GroupsResult): Finding {
  const broken = result.groups.filter((g) => g.broken).map((g) => g.name);
  if (broken.length > 0)
    return { severity: 'critical', summary: `broken delivery group(s): ${broken.join(', ')}`.slice(0, 300), probe: 'delivery_groups.list' };
  const empty = result.groups
    .filter((g) => g.enabled !== false && (g.totalMachines ?? 0) > 0 && g.registeredMachines === 0)
    .map((g) => g.name);
  if (empty.length > 0) {
    return {
      severity: 'critical',
      summary: `no registered machine in delivery group(s): ${empty.join(', ')}`.slice(0, 300),
      probe: 'delivery_groups.list',
    };
  }
  return {
    severity: 'ok',
    summary: `${result.groups.length} delivery group(s), none broken or without registered machines`,
    probe: 'delivery_groups.list',
  };
}

export const vdiHealthRunbook: RunbookDefinition = {
  category: 'vdi',
  description:
    'Can users get a desktop? Unregistered VDAs outside maintenance mode, broken delivery groups and groups with no registered machine.',
  steps: [{ probe: 'machines.unregistered', params: { includeMaintenance: false, limit: 20 } }, { probe: 'delivery_groups.list' }],
  evaluate(results) {
    return [
      stepError(results, 'machines.unregistered') ?? evaluateMachines(results['machines.unregistered'] as MachinesResult),
      stepError(results, 'delivery_groups.list') ?? evaluateGroups(results['delivery_groups.list'] as GroupsResult),
    ];
  },
};
