import { parseLabels, splitList, str } from './units.js';

/** Maps `docker container ls --format` JSON records (one per line) to typed rows. */

export interface ContainerRow {
  id: string;
  names: string[];
  image: string;
  createdAt: string;
  state: string;
  status: string;
  health: 'healthy' | 'unhealthy' | 'starting' | null;
  ports: string[];
  networks: string[];
  labels: Record<string, string>;
}

export function toContainerRow(record: Record<string, unknown>): ContainerRow {
  const status = str(record.Status);
  const health = /\((healthy|unhealthy|health: starting)\)/.exec(status)?.[1];
  return {
    id: str(record.ID),
    names: splitList(str(record.Names)),
    image: str(record.Image),
    createdAt: str(record.CreatedAt),
    // State is missing before docker 20.10's ps formatter; derive it from Status then.
    state: str(record.State) || (status.startsWith('Up') ? 'running' : status.startsWith('Exited') ? 'exited' : 'unknown'),
    status,
    health: health === 'health: starting' ? 'starting' : ((health as 'healthy' | 'unhealthy' | undefined) ?? null),
    ports: splitList(str(record.Ports)),
    networks: splitList(str(record.Networks)),
    labels: parseLabels(str(record.Labels)),
  };
}

/** `Exited (137) 5 minutes ago` → 137. */
export function exitCodeFromStatus(status: string): number | null {
  const m = /^Exited \((-?\d+)\)/.exec(status);
  return m ? Number(m[1]) : null;
}
