import { defineProbe, SondeError } from '@sonde/pack-sdk';
import { z } from 'zod';
import { parseStubStatus } from '../parsers/stub-status.js';
import { STATUS_PATHS } from '../permissions.js';

const LOOPBACK = /^(?:127(?:\.\d{1,3}){3}|\[::1\]|localhost)$/;

export const status = defineProbe({
  name: 'status',
  description:
    'Live connection counters from stub_status (active, reading, writing, waiting; accepts/handled/requests since start) on a loopback endpoint: the configured endpoint, else http://127.0.0.1/nginx_status.',
  params: z.strictObject({ path: z.enum(STATUS_PATHS).default('/nginx_status') }),
  result: z.object({
    url: z.string(),
    active: z.number().int(),
    accepts: z.number().int(),
    handled: z.number().int(),
    requests: z.number().int(),
    reading: z.number().int(),
    writing: z.number().int(),
    waiting: z.number().int(),
    dropped: z.number().int().describe('accepts - handled: connections refused for lack of resources (worker_connections).'),
  }),
  timeoutMs: 10_000,
  async handler(params, ctx) {
    const url = new URL(params.path, ctx.endpoint ?? 'http://127.0.0.1');
    if (!LOOPBACK.test(url.hostname)) {
      throw new SondeError('SONDE_ERR_PERMISSION_DENIED', `nginx.status only reads stub_status on loopback, not ${url.hostname}`);
    }
    const response = await ctx.http(url.href, { timeoutMs: 5_000, maxBytes: 4096 });
    if (response.status !== 200) {
      throw new SondeError('SONDE_ERR_HTTP_FAILED', `${url.href} answered ${response.status}; enable stub_status there (allow 127.0.0.1)`, {
        status: response.status,
      });
    }
    const parsed = parseStubStatus(response.body);
    if (!parsed) throw new SondeError('SONDE_ERR_HTTP_FAILED', `${url.href} is not a stub_status page`);
    return { url: url.href, ...parsed, dropped: parsed.accepts - parsed.handled };
  },
});
