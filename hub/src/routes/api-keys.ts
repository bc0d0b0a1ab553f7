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
    ({ body, principal }) => {
      const created = core.store.transaction(() => {
        const result = core.apiKeys.create({ name: body.name, role: body.role, policy: body.policy });
        core.audit.append({
          action: 'api_key.create',
          actor: { kind: principal.kind, id: principal.id, name: principal.name },
          status: 'ok',
          params: { keyId: result.key.id, name: body.name, role: body.role, policy: result.key.policy },
        });
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
    () => core.apiKeys.list(),
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
    ({ params, principal }) => {
      const existing = core.apiKeys.find(params.id);
      if (existing.type === 'agent')
        throw new HubError('SONDE_ERR_CONFLICT', 'Agent keys are replaced by re-enrolling the agent, not rotated.');
      return core.store.transaction(() => {
        const result = core.apiKeys.rotate(existing.id);
        core.audit.append({
          action: 'api_key.rotate',
          actor: { kind: principal.kind, id: principal.id, name: principal.name },
          status: 'ok',
          params: { keyId: existing.id, name: existing.name },
        });
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
    ({ params, principal }) => {
      const view = core.store.transaction(() => {
        const revoked = core.apiKeys.revoke(params.id);
        core.audit.append({
          action: 'api_key.revoke',
          actor: { kind: principal.kind, id: principal.id, name: principal.name },
          status: 'ok',
          params: { keyId: revoked.id, name: revoked.name },
        });
        return revoked;
      });
      // An agent connected with this key loses it now, not at its next reconnect.
      if (view.type === 'agent' && view.agentId) hub.gateway.disconnect(view.agentId, 'agent API key revoked');
      return view;
    },
  );
  await Promise.resolve();
};
