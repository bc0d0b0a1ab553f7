import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { createDirectoryAdmin } from '../identity/admin.js';
import { RoleSchema } from '../keys/index.js';
import type { Principal } from '../services.js';
import { defineRoute } from './define.js';
import { IdParams, UserSchema } from './schemas.js';

const CreateUserBody = z
  .object({
    /** Defaults to the e-mail. */
    name: z.string().trim().min(1).max(200).optional(),
    /** The address single sign-on matches at the user's first sign-in. */
    email: z.email().max(320).optional(),
    role: RoleSchema,
    enabled: z.boolean().default(true),
  })
  .strict()
  .refine((b) => b.name !== undefined || b.email !== undefined, { message: 'give an email (for single sign-on) or a name' });
const UpdateUserBody = z
  .object({ role: RoleSchema.optional(), enabled: z.boolean().optional(), email: z.email().max(320).nullable().optional() })
  .strict();

const actorOf = (p: Principal) => ({ kind: p.kind, id: p.id, name: p.name });

/**
 * Users: added by e-mail before their first single sign-on, or created at
 * sign-in through an authorized group; the bootstrap admin is one of them.
 * Disabling or removing a user ends their sessions at once.
 */
export const userRoutes: FastifyPluginAsync = async (app) => {
  const { core, hubConfig: config } = app;
  const directory = createDirectoryAdmin({ store: core.store, audit: core.audit, bootstrapAdmin: config.adminUser });

  defineRoute(
    app,
    { method: 'GET', url: '/api/v1/users', summary: 'Lists users', tag: 'users', auth: 'admin', response: z.array(UserSchema) },
    () => directory.listUsers(),
  );

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/users',
      summary: 'Adds a user (by e-mail, before their first sign-in)',
      tag: 'users',
      auth: 'admin',
      body: CreateUserBody,
      response: UserSchema,
      status: 201,
    },
    ({ body, principal }) => directory.addUser(body, actorOf(principal)),
  );

  defineRoute(
    app,
    {
      method: 'PATCH',
      url: '/api/v1/users/:id',
      summary: 'Changes role, e-mail or enabled (disable keeps the record and ends the user’s sessions)',
      tag: 'users',
      auth: 'admin',
      params: IdParams,
      body: UpdateUserBody,
      response: UserSchema,
    },
    ({ params, body, principal }) => directory.updateUser(params.id, body, actorOf(principal)),
  );

  defineRoute(
    app,
    {
      method: 'DELETE',
      url: '/api/v1/users/:id',
      summary: 'Deletes a user and ends their sessions',
      tag: 'users',
      auth: 'admin',
      params: IdParams,
      status: 204,
    },
    async ({ params, principal, reply }) => {
      await directory.removeUser(params.id, actorOf(principal));
      return reply.code(204).send();
    },
  );
  await Promise.resolve();
};
