/** Parser for `systemctl show -p …`: `Key=Value` lines. */

export function parseShow(output: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of output.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return values;
}

// systemd prints UINT64_MAX or "[not set]" for counters it does not track.
const UNSET = new Set(['', '[not set]', '18446744073709551615', 'infinity']);

export function numberOrNull(value: string | undefined): number | null {
  if (value === undefined || UNSET.has(value) || !/^\d+$/.test(value)) return null;
  return Number(value);
}

export function textOrNull(value: string | undefined): string | null {
  return value === undefined || value === '' || value === 'n/a' ? null : value;
}

export interface UnitStatus {
  unit: string;
  exists: boolean;
  description: string | null;
  loadState: string;
  activeState: string;
  subState: string;
  unitFileState: string | null;
  fragmentPath: string | null;
  type: string | null;
  restart: string | null;
  restarts: number | null;
  result: string | null;
  mainPid: number | null;
  execMainStatus: number | null;
  execMainStartedAt: string | null;
  execMainExitedAt: string | null;
  activeSince: string | null;
  inactiveSince: string | null;
  stateChangedAt: string | null;
  memoryBytes: number | null;
  cpuSeconds: number | null;
  tasks: number | null;
}

export function toUnitStatus(unit: string, v: Record<string, string>): UnitStatus {
  const cpu = numberOrNull(v.CPUUsageNSec);
  const pid = numberOrNull(v.MainPID);
  return {
    unit: v.Id || unit,
    exists: v.LoadState !== 'not-found',
    description: textOrNull(v.Description),
    loadState: v.LoadState ?? 'unknown',
    activeState: v.ActiveState ?? 'unknown',
    subState: v.SubState ?? 'unknown',
    unitFileState: textOrNull(v.UnitFileState),
    fragmentPath: textOrNull(v.FragmentPath),
    type: textOrNull(v.Type),
    restart: textOrNull(v.Restart),
    restarts: numberOrNull(v.NRestarts),
    result: textOrNull(v.Result),
    mainPid: pid === 0 ? null : pid,
    execMainStatus: numberOrNull(v.ExecMainStatus),
    execMainStartedAt: textOrNull(v.ExecMainStartTimestamp),
    execMainExitedAt: textOrNull(v.ExecMainExitTimestamp),
    activeSince: textOrNull(v.ActiveEnterTimestamp),
    inactiveSince: textOrNull(v.InactiveEnterTimestamp),
    stateChangedAt: textOrNull(v.StateChangeTimestamp),
    memoryBytes: numberOrNull(v.MemoryCurrent),
    cpuSeconds: cpu === null ? null : Math.round(cpu / 1e6) / 1e3,
    tasks: numberOrNull(v.TasksCurrent),
  };
}
