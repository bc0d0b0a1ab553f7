import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { HubError } from '../errors.js';
import { KeyNameSchema, KeyPolicySchema, RoleSchema, type ApiKeyView } from '../keys/index.js';
import { isScoped, policyWider } from '../policy/scope.js';
import type { Principal } from '../services.js';
import { defineRoute } from './define.js';
import { ApiKeyViewSchema, IdParams } from './schemas.js';

const CreateKeyBody = z.object({ name: KeyNameSchema, role: RoleSchema, policy: KeyPolicySchema.optional() }).strict();
const KeyWithSecret = z.object({ key: ApiKeyViewSchema, rawKey: z.string().describe('The key value; shown only in this response') });

export const apiKeyRoutes: FastifyPluginAsync = async (app) => {
  const { core, gateway, sonde } = app;

  /**
   * What a scoped key may see and manage: user keys no wider than itself, and
   * the agent keys of agents in its scope. An unscoped admin key manages all.
   */
  const withinScope = (key: Pick<ApiKeyView, 'type' | 'policy' | 'agentId'>, principal: Principal): boolean => {
    if (!isScoped(principal.policy) && principal.policy.allowedClients.length === 0) return true;
    if (key.type === 'agent') {
      const agent = key.agentId ? sonde.fleet.get(key.agentId) : undefined;
      return !!agent && core.pdp.checkAgent(principal, agent.name).allowed;
    }
    return policyWider(key.policy, principal.policy) === undefined;
  };

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/api-keys',
      summary: 'Creates a user API key; the raw value is returned once',
      tag: 'api-keys',
      auth: 'admin',
      scoped: true,
      body: CreateKeyBody,
      response: KeyWithSecret,
      status: 201,
    },
    async ({ body, principal }) => {
      // Never wider than the key that mints it: agents, probes and clients (the role is admin at most, which it is).
      const wider = policyWider(KeyPolicySchema.parse(body.policy ?? {}), principal.policy);
      if (wider) {
        await core.audit.append({
          action: 'api_key.create',
          actor: { kind: principal.kind, id: principal.id, name: principal.name },
          status: 'denied',
          params: { name: body.name, role: body.role, policy: body.policy ?? null },
          detail: `refused: ${wider} (the minting key's own scope)`,
        });
        throw new HubError('SONDE_ERR_POLICY_DENIED', `A key cannot mint a wider key: ${wider}.`);
      }
      const created = await core.store.transaction(async (tx) => {
        const result = await core.apiKeys.create({ name: body.name, role: body.role, policy: body.policy }, tx.apiKeys);
        await core.audit.append(
          {
            action: 'api_key.create',
            actor: { kind: principal.kind, id: principal.id, name: principal.name },
            status: 'ok',
            params: { keyId: result.key.id, name: body.name, role: body.role, policy: result.key.policy },
          },
          tx,
        );
        return result;
      });
      return created;
    },
  );

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/api-keys',
      summary: 'Lists API keys (never their values)',
      tag: 'api-keys',
      auth: 'admin',
      scoped: true,
      response: z.array(ApiKeyViewSchema),
    },
    async ({ principal }) => {
      const all = await core.apiKeys.list();
      return all.filter((key) => withinScope(key, principal));
    },
  );

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/api-keys/:id/rotate',
      summary: 'New value for a key; the old value stops working at once',
      tag: 'api-keys',
      auth: 'admin',
      scoped: true,
      params: IdParams,
      response: KeyWithSecret,
    },
    async ({ params, principal }) => {
      const existing = await core.apiKeys.find(params.id);
      // Rotating hands out the new value: only for a key no wider than the caller's own.
      if (!withinScope(existing, principal)) throw new HubError('SONDE_ERR_KEY_NOT_FOUND', `no API key with id or name "${params.id}"`);
      if (existing.type === 'agent')
        throw new HubError('SONDE_ERR_CONFLICT', 'Agent keys are replaced by re-enrolling the agent, not rotated.');
      return await core.store.transaction(async (tx) => {
        const result = await core.apiKeys.rotate(existing.id, tx.apiKeys);
        await core.audit.append(
          {
            action: 'api_key.rotate',
            actor: { kind: principal.kind, id: principal.id, name: principal.name },
            status: 'ok',
            params: { keyId: existing.id, name: existing.name },
          },
          tx,
        );
        return result;
      });
    },
  );

  defineRoute(
    app,
    {
      method: 'DELETE',
      url: '/api/v1/api-keys/:id',
      summary: 'Revokes a key at once',
      tag: 'api-keys',
      auth: 'admin',
      scoped: true,
      params: IdParams,
      response: ApiKeyViewSchema,
    },
    async ({ params, principal }) => {
      const target = await core.apiKeys.find(params.id);
      if (!withinScope(target, principal)) throw new HubError('SONDE_ERR_KEY_NOT_FOUND', `no API key with id or name "${params.id}"`);
      const view = await core.store.transaction(async (tx) => {
        const revoked = await core.apiKeys.revoke(target.id, tx.apiKeys);
        await core.audit.append(
          {
            action: 'api_key.revoke',
            actor: { kind: principal.kind, id: principal.id, name: principal.name },
            status: 'ok',
            params: { keyId: revoked.id, name: revoked.name },
          },
          tx,
        );
        return revoked;
      });
      // An agent connected with this key loses it now, not at its next reconnect.
      if (view.type === 'agent' && view.agentId) gateway.disconnect(view.agentId, 'agent API key revoked');
      return view;
    },
  );
  await Promise.resolve();
};
