import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { HubError } from '../errors.js';
import { defineRoute } from './define.js';

const RunProbeBody = z
  .object({
    agent: z.string().min(1).max(200).describe('Agent name or id'),
    probe: z.string().regex(/^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$/, 'a full probe name such as system.disk.usage'),
    params: z.record(z.string(), z.unknown()).default({}),
    timeoutMs: z.number().int().min(100).max(45_000).optional(),
  })
  .strict();
const DispatchResultSchema = z.object({
  agent: z.string(),
  probe: z.string(),
  status: z.enum(['ok', 'error', 'timeout', 'denied', 'offline']),
  result: z.unknown().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  durationMs: z.number(),
  truncated: z.boolean(),
});

export const probeRoutes: FastifyPluginAsync = async (app) => {
  const { core, sonde } = app;

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/probes',
      summary: 'Runs one probe on one agent (policy-checked, audited once)',
      tag: 'probes',
      auth: 'admin',
      scoped: true,
      body: RunProbeBody,
      response: DispatchResultSchema,
    },
    async ({ body, principal, reply }) => {
      const actor = { kind: principal.kind, id: principal.id, name: principal.name };
      const agent = sonde.fleet.get(body.agent);
      const agentName = agent?.name ?? body.agent;
      const decision = core.pdp.checkProbe(principal, agentName, body.probe);
      if (!decision.allowed) {
        await core.audit.append({
          action: 'rest.probe',
          actor,
          agents: [agentName],
          probe: body.probe,
          params: body.params,
          status: 'denied',
          detail: decision.reason,
        });
        throw new HubError('SONDE_ERR_POLICY_DENIED', decision.reason);
      }
      if (!agent) {
        await core.audit.append({
          action: 'rest.probe',
          actor,
          agents: [agentName],
          probe: body.probe,
          params: body.params,
          status: 'error',
          detail: 'no such agent',
        });
        throw new HubError('SONDE_ERR_AGENT_NOT_FOUND', `No agent with id or name "${body.agent}".`);
      }
      const abort = new AbortController();
      // The caller went away before the answer: stop waiting for the agent.
      reply.raw.once('close', () => {
        if (!reply.raw.writableEnded) abort.abort();
      });
      const result = await sonde.dispatcher.dispatch({
        agent: agent.id,
        probe: body.probe,
        params: body.params,
        timeoutMs: body.timeoutMs,
        signal: abort.signal,
      });
      const answer = { ...result, agent: agent.name };
      await core.audit.append({
        action: 'rest.probe',
        actor,
        agents: [agent.name],
        probe: body.probe,
        params: body.params,
        status: result.status === 'ok' ? 'ok' : result.status,
        resultBytes: result.result === undefined ? 0 : Buffer.byteLength(JSON.stringify(result.result)),
        durationMs: result.durationMs,
        detail: result.error ? `${result.error.code}: ${result.error.message}`.slice(0, 500) : null,
      });
      return answer;
    },
  );
  await Promise.resolve();
};
