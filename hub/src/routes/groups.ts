import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { createDirectoryAdmin } from '../identity/admin.js';
import { AuthorizedGroupSchema, RoleSchema } from '../identity/index.js';
import { defineRoute } from './define.js';

const GroupRecordSchema = AuthorizedGroupSchema.extend({ createdAt: z.string() });
const GroupParams = z.object({ groupId: z.string().min(1).max(256) });
const UpdateGroupBody = z
  .object({ displayName: z.string().trim().min(1).max(200).optional(), defaultRole: RoleSchema.optional() })
  .strict();

/**
 * Authorized groups: every member of one may sign in with single sign-on and
 * holds at least its default role. A change applies to live sessions at their
 * next request (the role is worked out per request from the user's groups).
 */
export const groupRoutes: FastifyPluginAsync = async (app) => {
  const { core, hubConfig: config } = app;
  const directory = createDirectoryAdmin({ store: core.store, audit: core.audit, bootstrapAdmin: config.adminUser });

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/groups',
      summary: 'Lists authorized groups',
      tag: 'users',
      auth: 'admin',
      response: z.array(GroupRecordSchema),
    },
    () => directory.listGroups(),
  );

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/groups',
      summary: 'Authorizes a group (Entra group object id or app role value, or the group name your provider sends)',
      tag: 'users',
      auth: 'admin',
      body: AuthorizedGroupSchema.strict(),
      response: GroupRecordSchema,
      status: 201,
    },
    ({ body, principal }) => directory.addGroup(body, { kind: principal.kind, id: principal.id, name: principal.name }),
  );

  defineRoute(
    app,
    {
      method: 'PATCH',
      url: '/api/v1/groups/:groupId',
      summary: 'Renames a group or changes its default role (applies to live sessions at their next request)',
      tag: 'users',
      auth: 'admin',
      params: GroupParams,
      body: UpdateGroupBody,
      response: GroupRecordSchema,
    },
    ({ params, body, principal }) =>
      directory.updateGroup(params.groupId, body, { kind: principal.kind, id: principal.id, name: principal.name }),
  );

  defineRoute(
    app,
    {
      method: 'DELETE',
      url: '/api/v1/groups/:groupId',
      summary: 'Removes a group and the users who came only from it (their sessions end now)',
      tag: 'users',
      auth: 'admin',
      params: GroupParams,
      status: 204,
    },
    async ({ params, principal, reply }) => {
      await directory.removeGroup(params.groupId, { kind: principal.kind, id: principal.id, name: principal.name });
      return reply.code(204).send();
    },
  );
  await Promise.resolve();
};
