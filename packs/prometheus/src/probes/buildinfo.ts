import { defineProbe, expectShape } from '@sonde/pack-sdk';
import { z } from 'zod';
import { API_PATHS, getData } from '../api.js';

const RawBuildInfo = z.object({
  version: z.string(),
  revision: z.string().default(''),
  branch: z.string().default(''),
  buildUser: z.string().default(''),
  buildDate: z.string().default(''),
  goVersion: z.string().default(''),
});

export const buildinfo = defineProbe({
  name: 'buildinfo',
  description:
    'Prometheus version, revision, branch, build date and Go version. Also the cheapest check that the endpoint and credentials work.',
  params: z.strictObject({}),
  result: RawBuildInfo,
  timeoutMs: 10_000,
  openWorld: true,
  async handler(_params, ctx) {
    const { data } = await getData(ctx, API_PATHS.buildinfo);
    return expectShape(RawBuildInfo, data, 'Prometheus buildinfo');
  },
});
