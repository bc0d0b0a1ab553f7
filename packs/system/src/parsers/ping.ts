/** Parsers for iputils `ping -n` and `traceroute -n -q 1` output. */

export interface PingSummary {
  transmitted: number;
  received: number;
  lossPercent: number;
  rttMs: { min: number; avg: number; max: number; mdev: number } | null;
  replies: Array<{ seq: number; ttl: number; timeMs: number }>;
}

export function parsePing(output: string): PingSummary {
  const replies = [...output.matchAll(/icmp_seq=(\d+) ttl=(\d+) time=([\d.]+) ms/g)].map((m) => ({
    seq: Number(m[1]),
    ttl: Number(m[2]),
    timeMs: Number(m[3]),
  }));
  const stats =
    /(\d+) packets transmitted, (\d+) (?:packets )?received(?:, \+\d+ errors)?(?:, \+\d+ duplicates)?, ([\d.]+)% packet loss/.exec(output);
  const rtt = /(?:rtt|round-trip) min\/avg\/max\/(?:mdev|stddev) = ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(output);
  return {
    transmitted: stats ? Number(stats[1]) : 0,
    received: stats ? Number(stats[2]) : replies.length,
    lossPercent: stats ? Number(stats[3]) : 100,
    rttMs: rtt ? { min: Number(rtt[1]), avg: Number(rtt[2]), max: Number(rtt[3]), mdev: Number(rtt[4]) } : null,
    replies,
  };
}

export interface TracerouteHop {
  hop: number;
  address: string | null;
  rttMs: number | null;
}

export function parseTraceroute(output: string): TracerouteHop[] {
  const hops: TracerouteHop[] = [];
  for (const line of output.split('\n')) {
    const match = /^\s*(\d+)\s+(?:(\*)|(\S+)\s+([\d.]+) ms)/.exec(line);
    if (!match) continue;
    hops.push({ hop: Number(match[1]), address: match[2] ? null : match[3], rttMs: match[2] ? null : Number(match[4]) });
  }
  return hops;
}
