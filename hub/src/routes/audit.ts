import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { VerifyJobs, verifyAuditEntry } from '../audit/verify-jobs.js';
import { HubError } from '../errors.js';
import { auditEntryVisible } from '../policy/scope.js';
import { defineRoute } from './define.js';
import { AuditRecordSchema, VerifyJobSchema, VerifyResultSchema } from './schemas.js';

const isoDate = z.iso.datetime({ offset: true }).or(z.iso.date());
const AuditQuery = z
  .object({
    agent: z.string().max(200).optional(),
    tool: z.string().max(200).optional().describe('MCP tool or action, e.g. probe or api_key.create'),
    key: z.string().max(200).optional().describe('API key id (or user id) that made the request'),
    from: isoDate.optional(),
    to: isoDate.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    before: z.coerce.number().int().min(1).optional().describe('Page cursor: entries older than this seq (newest first)'),
  })
  .strict();
const AuditPage = z.object({ entries: z.array(AuditRecordSchema), nextBefore: z.number().nullable() });
const AuditExportStatusSchema = z.object({
  sinks: z.array(
    z.object({
      sink: z.string().describe('syslog, webhook or otlp'),
      cursor: z.number().int().describe('Last seq the sink acknowledged'),
      lagEntries: z.number().int().describe('Committed entries not acknowledged yet'),
      lagSeconds: z.number().int().describe('Age of the oldest unacknowledged entry (0 when caught up)'),
      behind: z.boolean().describe('The oldest unacknowledged entry is older than the alert threshold (300 s)'),
      failing: z.boolean().describe('The last delivery failed; the sink is retrying with backoff'),
      lastError: z.string().nullable().describe('Why the last delivery failed, while failing'),
      delivered: z.number().int().describe('Entries this hub process delivered since it started'),
    }),
  ),
});
// Full by default: every entry is checked again (full=false walks only the entries after the last checkpoint).
const VerifyQuery = z.object({ full: z.enum(['true', 'false']).default('true') }).strict();

export const auditRoutes: FastifyPluginAsync = async (app) => {
  const { core } = app;
  const jobs = new VerifyJobs(core.audit);
  // A verify in the background reads the store: a stopping hub cancels it (audited) and closes the store after it.
  app.addHook('preClose', async () => {
    await jobs.cancelRunning({ kind: 'system', id: null, name: 'hub shutdown' });
    await jobs.settled();
  });

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/audit',
      summary: 'Audit entries, newest first, with filters and a seq cursor',
      tag: 'audit',
      auth: 'admin',
      scoped: true,
      query: AuditQuery,
      response: AuditPage,
    },
    async ({ query, principal }) => {
      // A bare date as `to` means the whole day.
      const to = query.to && query.to.length === 10 ? `${query.to}T23:59:59.999Z` : query.to;
      const page = await core.store.audit.query({
        agent: query.agent,
        tool: query.tool,
        keyId: query.key,
        from: query.from,
        to,
        beforeSeq: query.before,
        order: 'desc',
        limit: query.limit,
      });
      // A scoped key sees its own actions and entries about its agents only; a page may then hold fewer
      // entries than `limit`, and the cursor still moves past everything read.
      const entries = page.filter((entry) => auditEntryVisible(core.pdp, principal, entry));
      const last = page[page.length - 1];
      return { entries, nextBefore: page.length === query.limit && last ? last.seq : null };
    },
  );

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/audit/verify',
      summary:
        'Verifies the whole keyed hash chain and the anchor outside the database (full=false: only entries after the last checkpoint); reports the first broken entry',
      tag: 'audit',
      auth: 'admin',
      query: VerifyQuery,
      response: VerifyResultSchema,
    },
    async ({ query, principal }) => {
      const result = await core.audit.verify({ full: query.full === 'true' });
      await core.audit.append(verifyAuditEntry(result, { kind: principal.kind, id: principal.id, name: principal.name }));
      return result;
    },
  );

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/audit/verify',
      summary:
        'Starts a verify in the background and answers at once with its job (poll GET /api/v1/audit/verify/{id} for progress and the result); while one runs, answers with that one',
      tag: 'audit',
      auth: 'admin',
      status: 202,
      query: VerifyQuery,
      response: VerifyJobSchema,
    },
    ({ query, principal, reply }) => {
      const job = jobs.start(query.full === 'true', { kind: principal.kind, id: principal.id, name: principal.name });
      void reply.header('location', `/api/v1/audit/verify/${job.id}`);
      return job;
    },
  );

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/audit/verify/:id',
      summary: 'A background verify: its progress (checked of total entries) while it runs, then its result',
      tag: 'audit',
      auth: 'admin',
      params: z.object({ id: z.string().max(64) }).strict(),
      response: VerifyJobSchema,
    },
    ({ params }) => {
      const job = jobs.get(params.id);
      if (!job) throw new HubError('SONDE_ERR_NOT_FOUND', `no verify job "${params.id}" on this hub (the newest 20 are kept)`);
      return job;
    },
  );

  defineRoute(
    app,
    {
      method: 'DELETE',
      url: '/api/v1/audit/verify/:id',
      summary:
        'Cancels a running background verify and answers once it has stopped (state cancelled, audited once as audit.verify with status partial); a job that already ended is returned as it is',
      tag: 'audit',
      auth: 'admin',
      params: z.object({ id: z.string().max(64) }).strict(),
      response: VerifyJobSchema,
    },
    async ({ params, principal }) => {
      const job = await jobs.cancel(params.id, { kind: principal.kind, id: principal.id, name: principal.name });
      if (!job) throw new HubError('SONDE_ERR_NOT_FOUND', `no verify job "${params.id}" on this hub (the newest 20 are kept)`);
      return job;
    },
  );

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/audit/export',
      summary:
        'Audit export sinks (syslog, webhook, OTLP) and how each keeps up: acknowledged seq, lag, whether it is behind or failing and why; an empty list when none is configured',
      tag: 'audit',
      // Hub-wide, and a failing sink's error names the collector's host: an unscoped admin key only.
      auth: 'admin',
      response: AuditExportStatusSchema,
    },
    () => ({
      sinks: (app.auditExport?.status() ?? []).map((sink) => ({
        ...sink,
        lagSeconds: Math.round(sink.lagSeconds),
        lastError: sink.lastError ?? null,
      })),
    }),
  );
  await Promise.resolve();
};
