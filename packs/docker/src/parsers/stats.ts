import { parsePair, parsePercent, str } from './units.js';

/** Maps `docker container stats --no-stream --format '{{json .}}'` records to numbers. */

export interface StatsRow {
  id: string;
  name: string;
  cpuPercent: number | null;
  memPercent: number | null;
  memUsageBytes: number | null;
  memLimitBytes: number | null;
  netRxBytes: number | null;
  netTxBytes: number | null;
  blockReadBytes: number | null;
  blockWriteBytes: number | null;
  pids: number | null;
}

export function toStatsRow(record: Record<string, unknown>): StatsRow {
  const [memUsage, memLimit] = parsePair(str(record.MemUsage));
  const [rx, tx] = parsePair(str(record.NetIO));
  const [read, write] = parsePair(str(record.BlockIO));
  const pids = str(record.PIDs);
  return {
    id: str(record.ID) || str(record.Container),
    name: str(record.Name),
    cpuPercent: parsePercent(str(record.CPUPerc)),
    memPercent: parsePercent(str(record.MemPerc)),
    memUsageBytes: memUsage,
    memLimitBytes: memLimit,
    netRxBytes: rx,
    netTxBytes: tx,
    blockReadBytes: read,
    blockWriteBytes: write,
    pids: /^\d+$/.test(pids) ? Number(pids) : null,
  };
}
