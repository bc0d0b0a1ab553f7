import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { getData } from '../api.js';

const Version = z.object({ version: z.string(), release: z.string(), repoid: z.string().default('') });

export const version = defineProbe({
  name: 'version',
  description: 'Proxmox VE version, release and repository id of the node the endpoint points at; the cheapest connection test.',
  params: z.strictObject({}),
  result: Version,
  timeoutMs: 10_000,
  openWorld: true,
  async handler(_params, ctx) {
    return getData(ctx, '/api2/json/version', Version);
  },
});
