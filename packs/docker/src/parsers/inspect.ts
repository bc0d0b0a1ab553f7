/**
 * Picks the diagnostic fields out of `docker container inspect`. Env is left
 * out on purpose: it routinely holds secrets; only its size is reported.
 */

export interface InspectSummary {
  id: string;
  name: string;
  image: string;
  imageId: string;
  created: string;
  platform: string | null;
  state: {
    status: string;
    running: boolean;
    paused: boolean;
    restarting: boolean;
    oomKilled: boolean;
    dead: boolean;
    pid: number;
    exitCode: number;
    error: string;
    startedAt: string;
    finishedAt: string;
    health: { status: string; failingStreak: number; lastOutput: string | null } | null;
  };
  restartCount: number;
  restartPolicy: string | null;
  entrypoint: string[];
  cmd: string[];
  workingDir: string | null;
  user: string | null;
  envCount: number;
  labels: Record<string, string>;
  mounts: Array<{ type: string; source: string; destination: string; readWrite: boolean }>;
  networks: Array<{ name: string; ipAddress: string; gateway: string; macAddress: string }>;
  ports: Array<{ container: string; hostIp: string; hostPort: string }>;
  memoryLimitBytes: number;
  nanoCpus: number;
  logDriver: string | null;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const s = (v: unknown): string => (typeof v === 'string' ? v : '');
const n = (v: unknown): number => (typeof v === 'number' ? v : 0);
const b = (v: unknown): boolean => v === true;
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];

export function summariseInspect(record: unknown): InspectSummary {
  const c = obj(record);
  const state = obj(c.State);
  const health = state.Health ? obj(state.Health) : undefined;
  const log = Array.isArray(health?.Log) ? (health.Log as unknown[]) : [];
  const config = obj(c.Config);
  const host = obj(c.HostConfig);
  const net = obj(c.NetworkSettings);
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(obj(config.Labels))) if (typeof value === 'string') labels[key] = value;
  const ports: InspectSummary['ports'] = [];
  for (const [container, bindings] of Object.entries(obj(net.Ports))) {
    if (!Array.isArray(bindings)) ports.push({ container, hostIp: '', hostPort: '' });
    else for (const binding of bindings) ports.push({ container, hostIp: s(obj(binding).HostIp), hostPort: s(obj(binding).HostPort) });
  }
  return {
    id: s(c.Id),
    name: s(c.Name).replace(/^\//, ''),
    image: s(config.Image),
    imageId: s(c.Image),
    created: s(c.Created),
    platform: s(c.Platform) || null,
    state: {
      status: s(state.Status),
      running: b(state.Running),
      paused: b(state.Paused),
      restarting: b(state.Restarting),
      oomKilled: b(state.OOMKilled),
      dead: b(state.Dead),
      pid: n(state.Pid),
      exitCode: n(state.ExitCode),
      error: s(state.Error),
      startedAt: s(state.StartedAt),
      finishedAt: s(state.FinishedAt),
      health: health
        ? {
            status: s(health.Status),
            failingStreak: n(health.FailingStreak),
            lastOutput: log.length ? s(obj(log[log.length - 1]).Output).slice(0, 2000) : null,
          }
        : null,
    },
    restartCount: n(c.RestartCount),
    restartPolicy: s(obj(host.RestartPolicy).Name) || null,
    entrypoint: strings(config.Entrypoint),
    cmd: strings(config.Cmd),
    workingDir: s(config.WorkingDir) || null,
    user: s(config.User) || null,
    envCount: strings(config.Env).length,
    labels,
    mounts: (Array.isArray(c.Mounts) ? c.Mounts : []).map((m) => {
      const mount = obj(m);
      return { type: s(mount.Type), source: s(mount.Source), destination: s(mount.Destination), readWrite: b(mount.RW) };
    }),
    networks: Object.entries(obj(net.Networks)).map(([name, value]) => {
      const network = obj(value);
      return { name, ipAddress: s(network.IPAddress), gateway: s(network.Gateway), macAddress: s(network.MacAddress) };
    }),
    ports,
    memoryLimitBytes: n(host.Memory),
    nanoCpus: n(host.NanoCpus),
    logDriver: s(obj(host.LogConfig).Type) || null,
  };
}
