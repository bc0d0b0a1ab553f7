/** Parsers for /proc/net/dev counters and `ip -j addr show`. */

export interface InterfaceCounters {
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

export function parseNetDev(text: string): Map<string, InterfaceCounters> {
  const out = new Map<string, InterfaceCounters>();
  for (const line of text.split('\n').slice(2)) {
    const match = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!match) continue;
    const f = match[2].trim().split(/\s+/).map(Number);
    if (f.length < 16) continue;
    out.set(match[1], {
      rxBytes: f[0],
      rxPackets: f[1],
      rxErrors: f[2],
      rxDropped: f[3],
      txBytes: f[8],
      txPackets: f[9],
      txErrors: f[10],
      txDropped: f[11],
    });
  }
  return out;
}

export interface InterfaceAddress {
  family: 'inet' | 'inet6';
  address: string;
  prefixLength: number;
  scope: string;
}

export interface InterfaceInfo {
  name: string;
  state: string;
  mtu: number | null;
  mac: string | null;
  flags: string[];
  addresses: InterfaceAddress[];
}

interface IpJsonLink {
  ifname?: unknown;
  operstate?: unknown;
  mtu?: unknown;
  address?: unknown;
  flags?: unknown;
  addr_info?: Array<{ family?: unknown; local?: unknown; prefixlen?: unknown; scope?: unknown }>;
}

export function parseIpAddrJson(text: string): InterfaceInfo[] {
  const data = JSON.parse(text) as IpJsonLink[];
  if (!Array.isArray(data)) throw new Error('ip -j addr did not return an array');
  return data
    .filter((link) => typeof link.ifname === 'string')
    .map((link) => ({
      name: String(link.ifname),
      state: typeof link.operstate === 'string' ? link.operstate : 'UNKNOWN',
      mtu: typeof link.mtu === 'number' ? link.mtu : null,
      mac: typeof link.address === 'string' ? link.address : null,
      flags: Array.isArray(link.flags) ? link.flags.filter((f): f is string => typeof f === 'string') : [],
      addresses: (link.addr_info ?? [])
        .filter((a) => (a.family === 'inet' || a.family === 'inet6') && typeof a.local === 'string')
        .map((a) => ({
          family: a.family as 'inet' | 'inet6',
          address: String(a.local),
          prefixLength: Number(a.prefixlen ?? 0),
          scope: typeof a.scope === 'string' ? a.scope : 'unknown',
        })),
    }));
}
