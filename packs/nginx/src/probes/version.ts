import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { parseNginxV } from '../parsers/version.js';

export const version = defineProbe({
  name: 'version',
  description: 'nginx version, TLS library, compiled-in and dynamic modules and build paths (conf, logs, pid), from `nginx -V`.',
  params: z.strictObject({}),
  result: z.object({
    version: z.string().nullable(),
    builtWith: z.string().nullable(),
    tlsSni: z.boolean(),
    modules: z.array(z.object({ name: z.string(), dynamic: z.boolean() })),
    paths: z.record(z.string(), z.string()),
    configureArguments: z.array(z.string()),
  }),
  timeoutMs: 10_000,
  async handler(_params, ctx) {
    const out = await ctx.exec('nginx', ['-V']);
    return parseNginxV(`${out.stderr}\n${out.stdout}`);
  },
});
