import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { HostParam } from '../params.js';
import { parsePing } from '../parsers/ping.js';

export const networkPing = defineProbe({
  name: 'network.ping',
  description:
    'ICMP ping from this host to one host: packets sent/received, loss %, round-trip min/avg/max. An unknown host is reported, not thrown.',
  params: z.strictObject({
    host: HostParam,
    count: z.number().int().min(1).max(10).default(3),
    timeoutSeconds: z.number().int().min(1).max(10).default(2),
  }),
  result: z.object({
    host: z.string(),
    reachable: z.boolean(),
    transmitted: z.number().int(),
    received: z.number().int(),
    lossPercent: z.number(),
    rttMs: z.object({ min: z.number(), avg: z.number(), max: z.number(), mdev: z.number() }).nullable(),
    replies: z.array(z.object({ seq: z.number().int(), ttl: z.number().int(), timeMs: z.number() })),
    error: z.string().nullable(),
  }),
  timeoutMs: 30_000,
  openWorld: true,
  async handler(params, ctx) {
    // iputils ping: 0 = replies, 1 = no reply, 2 = other error (e.g. name resolution).
    const out = await ctx.exec('ping', ['-n', '-c', String(params.count), '-W', String(params.timeoutSeconds), params.host], {
      okExitCodes: [0, 1, 2],
    });
    const summary = parsePing(out.stdout);
    const error = out.exitCode === 2 ? (out.stderr.trim().split('\n')[0] ?? 'ping failed').replace(/^ping: /, '') : null;
    return { host: params.host, reachable: summary.received > 0, ...summary, error };
  },
});
