import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { LEVELS, PathParam } from '../params.js';
import { parseConfigTest } from '../parsers/config-test.js';

export const configTest = defineProbe({
  name: 'config.test',
  description:
    'Runs `nginx -t` (syntax and semantic check; nothing is reloaded) and returns ok, whether the syntax alone is ok, and each error or warning with file:line. configPath must be under /etc/nginx.',
  params: z.strictObject({
    configPath: PathParam.optional().describe('Main config file; default is the binary built-in (/etc/nginx/nginx.conf).'),
  }),
  result: z.object({
    ok: z.boolean(),
    syntaxOk: z
      .boolean()
      .describe('True when parsing succeeded even if the test failed later (e.g. the pid file is not writable by the agent user).'),
    configFile: z.string().nullable(),
    errors: z.number().int(),
    warnings: z.number().int(),
    messages: z.array(
      z.object({ level: z.enum(LEVELS), message: z.string(), file: z.string().nullable(), line: z.number().int().nullable() }),
    ),
  }),
  timeoutMs: 20_000,
  async handler(params, ctx) {
    const args = params.configPath ? ['-t', '-c', params.configPath] : ['-t'];
    // nginx -t exits 1 on a failed test; that is a result, not a probe failure.
    const out = await ctx.exec('nginx', args, { okExitCodes: [0, 1] });
    const parsed = parseConfigTest(`${out.stderr}\n${out.stdout}`);
    return {
      ...parsed,
      ok: parsed.ok && out.exitCode === 0,
      errors: parsed.messages.filter((m) => ['error', 'crit', 'alert', 'emerg'].includes(m.level)).length,
      warnings: parsed.messages.filter((m) => m.level === 'warn').length,
    };
  },
});
