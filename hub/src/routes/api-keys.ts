import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { HubError } from '../errors.js';
import { KeyNameSchema, KeyPolicySchema, RoleSchema } from '../keys/index.js';
import { defineRoute } from './define.js';
import { ApiKeyViewSchema, IdParams } from './schemas.js';

const CreateKeyBody = z.object({ name: KeyNameSchema, role: RoleSchema, policy: KeyPolicySchema.optional() }).strict();
const KeyWithSecret = z.object({ key: ApiKeyViewSchema, rawKey: z.string().describe('The key value; shown only in this response') });

export const apiKeyRoutes: FastifyPluginAsync = async (app) => {
  const { hub } = app;
  const { core } = hub;

  defineRoute(
    app,
    hub.api,
    hub.requireAdmin,
    {
      method: 'POST',
      url: '/api/v1/api-keys',
      summary: 'Creates a user API key; the raw value is returned once',
      tag: 'api-keys',
      auth: 'admin',
      body: CreateKeyBody,
      response: KeyWithSecret,
      status: 201,
    },
    async ({ body, principal }) => {
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
    hub.api,
    hub.requireAdmin,
    {
      method: 'GET',
      url: '/api/v1/api-keys',
      summary: 'Lists API keys (never their values)',
      tag: 'api-keys',
      auth: 'admin',
      response: z.array(ApiKeyViewSchema),
    },
    async () => await core.apiKeys.list(),
  );

  defineRoute(
    app,
    hub.api,
    hub.requireAdmin,
    {
      method: 'POST',
      url: '/api/v1/api-keys/:id/rotate',
      summary: 'New value for a key; the old value stops working at once',
      tag: 'api-keys',
      auth: 'admin',
      params: IdParams,
      response: KeyWithSecret,
    },
    async ({ params, principal }) => {
      const existing = await core.apiKeys.find(params.id);
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
    hub.api,
    hub.requireAdmin,
    {
      method: 'DELETE',
      url: '/api/v1/api-keys/:id',
      summary: 'Revokes a key at once',
      tag: 'api-keys',
      auth: 'admin',
      params: IdParams,
      response: ApiKeyViewSchema,
    },
    async ({ params, principal }) => {
      const view = await core.store.transaction(async (tx) => {
        const revoked = await core.apiKeys.revoke(params.id, tx.apiKeys);
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
      if (view.type === 'agent' && view.agentId) hub.gateway.disconnect(view.agentId, 'agent API key revoked');
      return view;
    },
  );
  await Promise.resolve();
};
