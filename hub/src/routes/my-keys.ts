import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { HubError } from '../errors.js';
import { KeyNameSchema, keyView } from '../keys/index.js';
import { defineRoute } from './define.js';
import { ApiKeyViewSchema, IdParams } from './schemas.js';

const CreateMyKeyBody = z.object({ name: KeyNameSchema }).strict();
const KeyWithSecret = z.object({ key: ApiKeyViewSchema, rawKey: z.string().describe('The key value; shown only in this response') });

/**
 * "My keys": a signed-in user (member or admin, through the session cookie)
 * creates MCP keys for their own AI clients, at most SONDE_USER_MAX_KEYS.
 * Such a key has the member role (MCP only), whatever its owner's role, and
 * stops working when its owner is disabled, removed or loses their groups.
 */
export const myKeyRoutes: FastifyPluginAsync = async (app) => {
  const { core, hubConfig: config } = app;

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/me/keys',
      summary: 'Lists the signed-in user’s own API keys (session)',
      tag: 'api-keys',
      auth: 'session',
      response: z.object({ max: z.number(), keys: z.array(ApiKeyViewSchema) }),
    },
    async ({ principal: user }) => {
      const keys = (await core.store.apiKeys.listByOwner(user.id)).filter((k) => !k.revokedAt);
      return { max: config.userMaxKeys, keys: keys.map(keyView) };
    },
  );

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/me/keys',
      summary: 'Creates an MCP key (member role) for the signed-in user; the value is returned once',
      tag: 'api-keys',
      auth: 'session',
      body: CreateMyKeyBody,
      response: KeyWithSecret,
      status: 201,
    },
    async ({ principal: user, body }) => {
      return core.store.transaction(async (tx) => {
        const active = (await tx.apiKeys.listByOwner(user.id)).filter((k) => !k.revokedAt).length;
        if (active >= config.userMaxKeys)
          throw new HubError(
            'SONDE_ERR_CONFLICT',
            config.userMaxKeys === 0
              ? 'Self-service keys are turned off on this hub (SONDE_USER_MAX_KEYS=0); ask an admin for a key.'
              : `You have ${active} keys, the most this hub allows (SONDE_USER_MAX_KEYS=${config.userMaxKeys}); revoke one first.`,
          );
        const created = await core.apiKeys.create({ name: body.name, role: 'member', ownerUserId: user.id }, tx.apiKeys);
        await core.audit.append(
          {
            action: 'api_key.create',
            actor: { kind: 'user', id: user.id, name: user.name },
            status: 'ok',
            params: { keyId: created.key.id, name: body.name, role: 'member', own: true },
          },
          tx,
        );
        return created;
      });
    },
  );

  defineRoute(
    app,
    {
      method: 'DELETE',
      url: '/api/v1/me/keys/:id',
      summary: 'Revokes one of the signed-in user’s own keys',
      tag: 'api-keys',
      auth: 'session',
      params: IdParams,
      status: 204,
    },
    async ({ principal: user, params, reply }) => {
      await core.store.transaction(async (tx) => {
        const key = await tx.apiKeys.getById(params.id);
        if (!key || key.ownerUserId !== user.id) throw new HubError('SONDE_ERR_KEY_NOT_FOUND', 'You have no key with this id.');
        const view = await core.apiKeys.revoke(key.id, tx.apiKeys);
        await core.audit.append(
          {
            action: 'api_key.revoke',
            actor: { kind: 'user', id: user.id, name: user.name },
            status: 'ok',
            params: { keyId: view.id, own: true },
          },
          tx,
        );
      });
      return reply.code(204).send();
    },
  );
  await Promise.resolve();
};
