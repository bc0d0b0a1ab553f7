/** Picks the diagnostic fields out of `docker info --format '{{json .}}'`. */

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const s = (v: unknown): string => (typeof v === 'string' ? v : '');
const n = (v: unknown): number => (typeof v === 'number' ? v : 0);

export interface DaemonInfo {
  serverVersion: string;
  containers: number;
  running: number;
  paused: number;
  stopped: number;
  images: number;
  storageDriver: string;
  loggingDriver: string;
  cgroupDriver: string;
  cgroupVersion: string;
  kernelVersion: string;
  operatingSystem: string;
  architecture: string;
  cpus: number;
  memTotalBytes: number;
  dockerRootDir: string;
  swarm: string;
  liveRestore: boolean;
  runtimes: string[];
  securityOptions: string[];
  warnings: string[];
  serverErrors: string[];
  clientVersion: string | null;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export function summariseInfo(record: unknown): DaemonInfo {
  const info = obj(record);
  return {
    serverVersion: s(info.ServerVersion),
    containers: n(info.Containers),
    running: n(info.ContainersRunning),
    paused: n(info.ContainersPaused),
    stopped: n(info.ContainersStopped),
    images: n(info.Images),
    storageDriver: s(info.Driver),
    loggingDriver: s(info.LoggingDriver),
    cgroupDriver: s(info.CgroupDriver),
    cgroupVersion: s(info.CgroupVersion),
    kernelVersion: s(info.KernelVersion),
    operatingSystem: s(info.OperatingSystem),
    architecture: s(info.Architecture),
    cpus: n(info.NCPU),
    memTotalBytes: n(info.MemTotal),
    dockerRootDir: s(info.DockerRootDir),
    swarm: s(obj(info.Swarm).LocalNodeState) || 'inactive',
    liveRestore: info.LiveRestoreEnabled === true,
    runtimes: Object.keys(obj(info.Runtimes)).sort(),
    securityOptions: strings(info.SecurityOptions),
    warnings: strings(info.Warnings),
    serverErrors: strings(info.ServerErrors),
    clientVersion: s(obj(info.ClientInfo).Version) || null,
  };
}
