import { defineProbe, isSondeError } from '@sonde/pack-sdk';
import { z } from 'zod';
import { parseIpAddrJson, parseNetDev, type InterfaceInfo } from '../parsers/network.js';
import { readProcFile } from '../proc.js';

const count = z.number().int().nonnegative();

export const networkInterfaces = defineProbe({
  name: 'network.interfaces',
  description:
    'Network interfaces with state, MTU, addresses (from `ip -j addr`) and rx/tx byte, packet, error and drop counters (from /proc/net/dev).',
  params: z.strictObject({}),
  result: z.object({
    addressesAvailable: z.boolean().describe('False when `ip` is not installed; counters are still reported.'),
    interfaces: z.array(
      z.object({
        name: z.string(),
        state: z.string(),
        mtu: z.number().int().nullable(),
        mac: z.string().nullable(),
        flags: z.array(z.string()),
        addresses: z.array(
          z.object({ family: z.enum(['inet', 'inet6']), address: z.string(), prefixLength: z.number().int(), scope: z.string() }),
        ),
        counters: z
          .object({
            rxBytes: count,
            rxPackets: count,
            rxErrors: count,
            rxDropped: count,
            txBytes: count,
            txPackets: count,
            txErrors: count,
            txDropped: count,
          })
          .nullable(),
      }),
    ),
  }),
  timeoutMs: 10_000,
  async handler(_params, ctx) {
    const counters = parseNetDev(await readProcFile(ctx, '/proc/net/dev'));
    let links: InterfaceInfo[] | undefined;
    try {
      links = parseIpAddrJson((await ctx.exec('ip', ['-j', 'addr', 'show'])).stdout);
    } catch (error) {
      if (!isSondeError(error) || error.code !== 'SONDE_ERR_COMMAND_NOT_FOUND') throw error;
    }
    const base: InterfaceInfo[] =
      links ?? [...counters.keys()].map((name) => ({ name, state: 'UNKNOWN', mtu: null, mac: null, flags: [], addresses: [] }));
    return {
      addressesAvailable: links !== undefined,
      interfaces: base.map((link) => ({ ...link, counters: counters.get(link.name) ?? null })),
    };
  },
});
