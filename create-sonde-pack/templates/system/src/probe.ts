import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { OsInfoSchema, toOsInfo } from './parse.js';

/**
 * A probe reads; it never changes anything. It reaches the host only through
 * `ctx`, and only what `permissions` in src/index.ts declares: any other
 * command or file is refused by the host before it runs.
 */
export const probe = defineProbe({
  name: '{{probeName}}',
  description:
    'Distribution and kernel of the host: id, name and version from /etc/os-release, kernel release from uname -r. Use first to learn what a host runs.',
  params: z.object({}).strict(),
  result: OsInfoSchema,
  timeoutMs: 5_000,
  async handler(_params, ctx) {
    const [file, uname] = await Promise.all([ctx.readFile('/etc/os-release'), ctx.exec('uname', ['-r'])]);
    return toOsInfo(file.content, uname.stdout);
  },
});
