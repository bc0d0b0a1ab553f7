/** Parser for `ps -e -o pid,ppid,user:32,pcpu,pmem,rss,vsz,stat,etimes,comm --no-headers`. */

export interface ProcessRow {
  pid: number;
  ppid: number;
  user: string;
  cpuPercent: number;
  memPercent: number;
  rssBytes: number;
  vszBytes: number;
  state: string;
  elapsedSeconds: number;
  command: string;
}

// comm is last and may contain spaces, so it takes the rest of the line.
const ROW = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(.*)$/;

export function parsePs(output: string): ProcessRow[] {
  const rows: ProcessRow[] = [];
  for (const line of output.split('\n')) {
    const m = ROW.exec(line);
    if (!m) continue;
    rows.push({
      pid: Number(m[1]),
      ppid: Number(m[2]),
      user: m[3],
      cpuPercent: Number(m[4]),
      memPercent: Number(m[5]),
      rssBytes: Number(m[6]) * 1024,
      vszBytes: Number(m[7]) * 1024,
      state: m[8],
      elapsedSeconds: Number(m[9]),
      command: m[10].trimEnd(),
    });
  }
  return rows;
}
