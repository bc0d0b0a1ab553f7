import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { HubError } from '../errors.js';
import type { AgentRecord } from '../store/types.js';
import { defineRoute } from './define.js';
import { AgentViewSchema, IdParams } from './schemas.js';

const AgentDetailSchema = AgentViewSchema.extend({
  certSerial: z.string().nullable(),
  certNotAfter: z.string().nullable(),
  removedAt: z.string().nullable(),
  attestationBaseline: z.unknown(),
  pendingAttestation: z.unknown(),
});

export const agentRoutes: FastifyPluginAsync = async (app) => {
  const { hub } = app;
  const { core, gateway } = hub;

  const recordOf = (idOrName: string): AgentRecord => {
    const record = core.store.agents.getById(idOrName) ?? core.store.agents.getByName(idOrName);
    if (!record) throw new HubError('SONDE_ERR_AGENT_NOT_FOUND', `No agent with id or name "${idOrName}".`);
    return record;
  };

  defineRoute(
    app,
    hub.api,
    hub.requireAdmin,
    {
      method: 'GET',
      url: '/api/v1/agents',
      summary: 'Lists agents with their status',
      tag: 'agents',
      auth: 'admin',
      response: z.array(AgentViewSchema),
    },
    () => hub.services.fleet.list(),
  );

  defineRoute(
    app,
    hub.api,
    hub.requireAdmin,
    {
      method: 'GET',
      url: '/api/v1/agents/:id',
      summary: 'One agent (by id or name)',
      tag: 'agents',
      auth: 'admin',
      params: IdParams,
      response: AgentDetailSchema,
    },
    ({ params }) => {
      const record = recordOf(params.id);
      const view = hub.services.fleet.get(record.id) ?? {
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
    hub.api,
    hub.requireAdmin,
    {
      method: 'DELETE',
      url: '/api/v1/agents/:id',
      summary: 'Removes an agent: revokes its certificate and agent key and disconnects it; the record and its history stay',
      tag: 'agents',
      auth: 'admin',
      params: IdParams,
      status: 204,
    },
    ({ params, principal, reply }) => {
      const record = recordOf(params.id);
      const at = new Date().toISOString();
      core.store.transaction(() => {
        core.store.agents.remove(record.id, at);
        core.store.apiKeys.revokeForAgent(record.id, at);
        core.audit.append({
          action: 'agent.remove',
          actor: { kind: principal.kind, id: principal.id, name: principal.name },
          agents: [record.name],
          status: 'ok',
          detail: record.certSerial ? `cert ${record.certSerial} revoked` : null,
        });
      });
      gateway.disconnect(record.id, 'agent removed by an admin');
      return reply.code(204).send();
    },
  );

  defineRoute(
    app,
    hub.api,
    hub.requireAdmin,
    {
      method: 'POST',
      url: '/api/v1/agents/:id/accept-attestation',
      summary: 'Accepts the changed attestation as the new baseline and clears the degraded mark',
      tag: 'agents',
      auth: 'admin',
      params: IdParams,
      response: AgentDetailSchema.pick({ id: true, name: true, attestationBaseline: true }),
    },
    ({ params, principal }) => {
      const record = recordOf(params.id);
      core.store.transaction(() => {
        core.store.agents.acceptAttestation(record.id);
        core.audit.append({
          action: 'agent.accept_attestation',
          actor: { kind: principal.kind, id: principal.id, name: principal.name },
          agents: [record.name],
          status: 'ok',
          detail: record.degradedReasons.join('; ') || null,
        });
      });
      const after = recordOf(record.id);
      return { id: after.id, name: after.name, attestationBaseline: after.attestationBaseline };
    },
  );
  await Promise.resolve();
};
