import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { HubError } from '../errors.js';
import { defineRoute } from '../routes/define.js';
import type { HubMetrics } from './hub-metrics.js';

/** Past this many entries waiting for their commit the hub is not ready: the database is not keeping up. */
export const READY_MAX_AUDIT_QUEUE = 10_000;
/** The database must answer a read within this. */
export const READY_DB_TIMEOUT_MS = 2_000;

const CheckSchema = z.object({ ok: z.boolean(), detail: z.string().optional() });
const ReadySchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.object({ database: CheckSchema, audit: CheckSchema, shutdown: CheckSchema }),
});

export interface MetricsRoutesOptions {
  metrics: HubMetrics;
  /** SONDE_METRICS_TOKEN: when set, `/metrics` answers only `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** Entries waiting in the audit log's group commit. */
  auditQueueDepth: () => number;
  /** A cheap read through the store. */
  probeDatabase: () => Promise<unknown>;
}

/**
 * `GET /metrics` (Prometheus text format; only aggregate values, no agent, key
 * or user names; no authentication unless SONDE_METRICS_TOKEN is set) and `GET /api/v1/ready`: 200 when this
 * hub can take work (the database answers, the audit log keeps up, not
 * shutting down), else 503 with what failed. `/api/v1/health` stays the
 * liveness check: it answers as long as the process serves HTTP.
 */
export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, options) => {
  let closing = false;
  app.addHook('preClose', () => {
    closing = true;
    return Promise.resolve();
  });

  const expected = options.token ? createHash('sha256').update(`Bearer ${options.token}`).digest() : undefined;
  app.get('/metrics', async (request, reply) => {
    if (expected) {
      const given = createHash('sha256')
        .update(request.headers.authorization ?? '')
        .digest();
      // Compared as fixed-length digests in constant time: the answer does not reveal how much of a guess was right.
      if (!timingSafeEqual(given, expected)) {
        void reply.header('www-authenticate', 'Bearer realm="sonde-metrics"');
        throw new HubError('SONDE_ERR_UNAUTHORIZED', '/metrics needs Authorization: Bearer <the SONDE_METRICS_TOKEN value>');
      }
    }
    const body = await options.metrics.render();
    return reply.header('content-type', options.metrics.contentType).header('cache-control', 'no-store').send(body);
  });

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/ready',
      summary: 'Readiness: database answers, audit log keeps up, not shutting down (503 otherwise)',
      tag: 'health',
      auth: 'none',
      response: ReadySchema,
    },
    async ({ reply }) => {
      const database = await checkDatabase(options.probeDatabase);
      const depth = options.auditQueueDepth();
      const audit =
        depth > READY_MAX_AUDIT_QUEUE
          ? { ok: false, detail: `${depth} audit entries wait for their commit (limit ${READY_MAX_AUDIT_QUEUE})` }
          : { ok: true };
      const shutdown = closing ? { ok: false, detail: 'the hub is shutting down' } : { ok: true };
      const ready = database.ok && audit.ok && shutdown.ok;
      const body = { status: ready ? ('ready' as const) : ('not_ready' as const), checks: { database, audit, shutdown } };
      // defineRoute answers 200; a refusal is sent here with its own status.
      if (!ready) return reply.code(503).send(body);
      return body;
    },
  );
  await Promise.resolve();
};

async function checkDatabase(probe: () => Promise<unknown>): Promise<{ ok: boolean; detail?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${READY_DB_TIMEOUT_MS} ms`)), READY_DB_TIMEOUT_MS);
      }),
    ]);
    return { ok: true };
  } catch (error) {
    return { ok: false, detail: `the database did not answer: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    clearTimeout(timer);
  }
}
