import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { HubError } from '../errors.js';
import type { Principal } from '../services.js';
import type { AgentRecord } from '../store/types.js';
import { defineRoute } from './define.js';
import { AgentViewSchema, IdParams } from './schemas.js';

const PackParams = IdParams.extend({ pack: z.string().min(1).max(100) });
const ApproveBodySchema = z
  .object({
    version: z.string().min(1).max(100),
    permissionsSha256: z.string().regex(/^[0-9a-f]{64}$/, 'the 64-hex permissions digest the agent reports for the pending version'),
  })
  .strict();

const AgentDetailSchema = AgentViewSchema.extend({
  certSerial: z.string().nullable(),
  certNotAfter: z.string().nullable(),
  removedAt: z.string().nullable(),
  attestationBaseline: z.unknown(),
  pendingAttestation: z.unknown(),
});

export const agentRoutes: FastifyPluginAsync = async (app) => {
  const { core, gateway, sonde } = app;

  /** An agent outside the caller's scope answers exactly like one that does not exist. */
  const recordOf = async (idOrName: string, principal: Principal): Promise<AgentRecord> => {
    const record = (await core.store.agents.getById(idOrName)) ?? (await core.store.agents.getByName(idOrName));
    if (!record || !core.pdp.checkAgent(principal, record.name).allowed)
      throw new HubError('SONDE_ERR_AGENT_NOT_FOUND', `No agent with id or name "${idOrName}".`);
    return record;
  };

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/agents',
      summary: 'Lists agents with their status',
      tag: 'agents',
      auth: 'admin',
      scoped: true,
      response: z.array(AgentViewSchema),
    },
    ({ principal }) => sonde.fleet.list().filter((agent) => core.pdp.checkAgent(principal, agent.name).allowed),
  );

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/agents/:id',
      summary: 'One agent (by id or name)',
      tag: 'agents',
      auth: 'admin',
      scoped: true,
      params: IdParams,
      response: AgentDetailSchema,
    },
    async ({ params, principal }) => {
      const record = await recordOf(params.id, principal);
      const view = sonde.fleet.get(record.id) ?? {
        id: record.id,
        name: record.name,
        status: 'offline' as const,
        reasons: record.degradedReasons,
        connected: false,
        lastSeenAt: record.lastSeenAt,
        enrolledAt: record.enrolledAt,
        agentVersion: record.agentVersion,
        os: null,
        packs: record.packs,
        isolation: null,
      };
      return {
        ...view,
        certSerial: record.certSerial,
        certNotAfter: record.certNotAfter,
        removedAt: record.removedAt,
        attestationBaseline: record.attestationBaseline,
        pendingAttestation: record.pendingAttestation,
      };
    },
  );

  defineRoute(
    app,
    {
      method: 'DELETE',
      url: '/api/v1/agents/:id',
      summary: 'Removes an agent: revokes its certificate and agent key and disconnects it; the record and its history stay',
      tag: 'agents',
      auth: 'admin',
      scoped: true,
      params: IdParams,
      status: 204,
    },
    async ({ params, principal, reply }) => {
      const record = await recordOf(params.id, principal);
      const at = new Date().toISOString();
      await core.store.transaction(async (tx) => {
        await tx.agents.remove(record.id, at);
        await tx.apiKeys.revokeForAgent(record.id, at);
        await core.audit.append(
          {
            action: 'agent.remove',
            actor: { kind: principal.kind, id: principal.id, name: principal.name },
            agents: [record.name],
            status: 'ok',
            detail: record.certSerial ? `cert ${record.certSerial} revoked` : null,
          },
          tx,
        );
      });
      gateway.disconnect(record.id, 'agent removed by an admin');
      return reply.code(204).send();
    },
  );

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/agents/:id/accept-attestation',
      summary: 'Accepts the changed attestation as the new baseline and clears the degraded mark',
      tag: 'agents',
      auth: 'admin',
      scoped: true,
      params: IdParams,
      response: AgentDetailSchema.pick({ id: true, name: true, attestationBaseline: true }),
    },
    async ({ params, principal }) => {
      const record = await recordOf(params.id, principal);
      await core.store.transaction(async (tx) => {
        await tx.agents.acceptAttestation(record.id);
        await core.audit.append(
          {
            action: 'agent.accept_attestation',
            actor: { kind: principal.kind, id: principal.id, name: principal.name },
            agents: [record.name],
            status: 'ok',
            detail: record.degradedReasons.join('; ') || null,
          },
          tx,
        );
      });
      const after = await recordOf(record.id, principal);
      return { id: after.id, name: after.name, attestationBaseline: after.attestationBaseline };
    },
  );
  /**
   * Approve and reject share one path: the caller names the version and permissions digest they reviewed, the
   * hub refuses anything else the agent does not report pending, and the agent applies the decision only to its
   * own verified candidate with exactly that digest. One audit entry each, whatever the outcome.
   */
  const decide =
    (decision: 'approve' | 'reject') =>
    async ({
      params,
      body,
      principal,
    }: {
      params: z.infer<typeof PackParams>;
      body: z.infer<typeof ApproveBodySchema>;
      principal: Principal;
    }): Promise<{ ok: true; agent: string; pack: string; version: string }> => {
      const record = await recordOf(params.id, principal);
      const view = sonde.fleet.get(record.id);
      const status = (view?.packs ?? record.packs).find((pack) => pack.name === params.pack);
      const audit = async (status: 'ok' | 'denied' | 'error', detail: string): Promise<void> => {
        await core.audit.append({
          action: `agent.pack.${decision}`,
          actor: { kind: principal.kind, id: principal.id, name: principal.name },
          agents: [record.name],
          status,
          detail: `${params.pack}@${body.version} (${body.permissionsSha256.slice(0, 12)}…): ${detail}`.slice(0, 2000),
        });
      };
      if (!status) throw new HubError('SONDE_ERR_NOT_FOUND', `Agent ${record.name} reports no pack "${params.pack}".`);
      if (!status.pending || status.pending.version !== body.version || status.pending.permissionsSha256 !== body.permissionsSha256) {
        const held = status.pending ? `${status.pending.version} (${status.pending.permissionsSha256.slice(0, 12)}…)` : 'nothing';
        await audit('denied', `refused: the agent reports ${held} awaiting approval`);
        throw new HubError(
          'SONDE_ERR_CONFLICT',
          `Agent ${record.name} holds ${held} awaiting approval for ${params.pack}, not what was named.`,
        );
      }
      const request = {
        pack: params.pack,
        version: body.version,
        permissionsSha256: body.permissionsSha256,
        by: `hub:${principal.name ?? principal.id ?? 'admin'}`,
      };
      const result = decision === 'approve' ? await gateway.approvePack(record.id, request) : await gateway.rejectPack(record.id, request);
      if (!result.ok) {
        await audit('error', `the agent refused: ${result.error?.code ?? ''} ${result.error?.message ?? ''}`);
        const offline = result.error?.code === 'SONDE_ERR_AGENT_OFFLINE' || result.error?.code === 'SONDE_ERR_TIMEOUT';
        throw new HubError(
          offline ? 'SONDE_ERR_NOT_READY' : 'SONDE_ERR_CONFLICT',
          `Agent ${record.name}: ${result.error?.message ?? 'refused'}`,
        );
      }
      await audit('ok', decision === 'approve' ? 'approved on the agent' : 'rejected on the agent');
      return { ok: true as const, agent: record.name, pack: params.pack, version: body.version };
    };
  const decisionResponse = z.object({ ok: z.literal(true), agent: z.string(), pack: z.string(), version: z.string() });

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/agents/:id/packs/:pack/approve',
      summary:
        'Approves the pack version an agent holds pending (first install or an update asking for more). Name the version and permissions digest you reviewed: the agent applies it only to exactly that candidate.',
      tag: 'agents',
      auth: 'admin',
      scoped: true,
      params: PackParams,
      body: ApproveBodySchema,
      response: decisionResponse,
    },
    decide('approve'),
  );
  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/agents/:id/packs/:pack/reject',
      summary:
        'Rejects the pack version an agent holds pending, pinned like an approval to the version and permissions digest you reviewed. The agent never loads that candidate and keeps refusing it until another version is installed; a serving version keeps serving. An agent too old to understand a rejection answers 409 and keeps the version pending.',
      tag: 'agents',
      auth: 'admin',
      scoped: true,
      params: PackParams,
      body: ApproveBodySchema,
      response: decisionResponse,
    },
    decide('reject'),
  );
  await Promise.resolve();
};
