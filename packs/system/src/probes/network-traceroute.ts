import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { HostParam } from '../params.js';
import { parseTraceroute } from '../parsers/ping.js';

export const networkTraceroute = defineProbe({
  name: 'network.traceroute',
  description:
    'Route from this host to one host (UDP traceroute, numeric, one query per hop): each hop address and round-trip, null for hops that did not answer.',
  params: z.strictObject({
    host: HostParam,
    maxHops: z.number().int().min(1).max(20).default(15),
    waitSeconds: z.number().int().min(1).max(3).default(2),
  }),
  result: z.object({
    host: z.string(),
    reachedDestination: z.boolean(),
    hops: z.array(z.object({ hop: z.number().int(), address: z.string().nullable(), rttMs: z.number().nullable() })),
  }),
  timeoutMs: 90_000,
  openWorld: true,
  async handler(params, ctx) {
    const out = await ctx.exec(
      'traceroute',
      ['-n', '-q', '1', '-w', String(params.waitSeconds), '-m', String(params.maxHops), params.host],
      {
        timeoutMs: 85_000,
      },
    );
    const hops = parseTraceroute(out.stdout);
    const destination = /^traceroute to \S+ \(([^)]+)\)/.exec(out.stdout)?.[1] ?? params.host;
    return { host: params.host, reachedDestination: hops.some((hop) => hop.address === destination), hops };
  },
});
