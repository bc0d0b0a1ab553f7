import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { auditEntryVisible } from '../policy/scope.js';
import { defineRoute } from './define.js';
import { AuditRecordSchema, VerifyResultSchema } from './schemas.js';

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
// Full by default: every entry is checked again (full=false walks only the entries after the last checkpoint).
const VerifyQuery = z.object({ full: z.enum(['true', 'false']).default('true') }).strict();

export const auditRoutes: FastifyPluginAsync = async (app) => {
  const { hub } = app;
  const { core } = hub;

  defineRoute(
    app,
    hub.api,
    hub.requireAdmin,
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
      const entries = page.filter((entry) => auditEntryVisible(hub.services.pdp, principal, entry));
      const last = page[page.length - 1];
      return { entries, nextBefore: page.length === query.limit && last ? last.seq : null };
    },
  );

  defineRoute(
    app,
    hub.api,
    hub.requireAdmin,
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
      await core.audit.append({
        action: 'audit.verify',
        actor: { kind: principal.kind, id: principal.id, name: principal.name },
        status: result.ok ? 'ok' : 'error',
        detail: result.ok
          ? `${result.checked} entries checked${result.full ? ' (full)' : ''}`
          : `first broken entry ${result.firstBrokenSeq}: ${result.reason}`,
      });
      return result;
    },
  );
  await Promise.resolve();
};
