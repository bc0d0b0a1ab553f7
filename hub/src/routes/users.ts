import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { HubError } from '../errors.js';
import { RoleSchema } from '../keys/index.js';
import type { UserRecord } from '../store/types.js';
import { defineRoute } from './define.js';
import { IdParams, UserSchema } from './schemas.js';

const CreateUserBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    email: z.email().max(320).optional(),
    role: RoleSchema,
    enabled: z.boolean().default(true),
  })
  .strict();
const UpdateUserBody = z
  .object({ role: RoleSchema.optional(), enabled: z.boolean().optional(), email: z.email().max(320).nullable().optional() })
  .strict();

/** Local user records (SSO pre-authorisation comes with the dashboard); the bootstrap admin is one of them. */
export const userRoutes: FastifyPluginAsync = async (app) => {
  const { hub } = app;
  const { core } = hub;
  const userOf = async (id: string): Promise<UserRecord> => {
    const user = (await core.store.users.getById(id)) ?? (await core.store.users.getByName(id));
    if (!user) throw new HubError('SONDE_ERR_USER_NOT_FOUND', `No user with id or name "${id}".`);
    return user;
  };

  defineRoute(
    app,
    hub.api,
    hub.requireAdmin,
    { method: 'GET', url: '/api/v1/users', summary: 'Lists local users', tag: 'users', auth: 'admin', response: z.array(UserSchema) },
    async () => await core.store.users.list(),
  );

  defineRoute(
    app,
    hub.api,
    hub.requireAdmin,
    {
      method: 'POST',
      url: '/api/v1/users',
      summary: 'Adds a local user',
      tag: 'users',
      auth: 'admin',
      body: CreateUserBody,
      response: UserSchema,
      status: 201,
    },
    async ({ body, principal }) => {
      if (await core.store.users.getByName(body.name)) throw new HubError('SONDE_ERR_CONFLICT', `A user named "${body.name}" exists.`);
      const user: UserRecord = {
        id: randomUUID(),
        name: body.name,
        email: body.email ?? null,
        role: body.role,
        enabled: body.enabled,
        createdAt: new Date().toISOString(),
      };
      await core.store.transaction(async (tx) => {
        await tx.users.upsert(user);
        await core.audit.append(
          {
            action: 'user.create',
            actor: { kind: principal.kind, id: principal.id, name: principal.name },
            status: 'ok',
            params: { userId: user.id, name: user.name, role: user.role },
          },
          tx,
        );
      });
      return user;
    },
  );

  defineRoute(
    app,
    hub.api,
    hub.requireAdmin,
    {
      method: 'PATCH',
      url: '/api/v1/users/:id',
      summary: 'Changes role, e-mail or enabled (disable keeps the record)',
      tag: 'users',
      auth: 'admin',
      params: IdParams,
      body: UpdateUserBody,
      response: UserSchema,
    },
    async ({ params, body, principal }) => {
      const user = await userOf(params.id);
      const next: UserRecord = {
        ...user,
        role: body.role ?? user.role,
        enabled: body.enabled ?? user.enabled,
        email: body.email === undefined ? user.email : body.email,
      };
      await core.store.transaction(async (tx) => {
        await tx.users.upsert(next);
        await core.audit.append(
          {
            action: 'user.update',
            actor: { kind: principal.kind, id: principal.id, name: principal.name },
            status: 'ok',
            params: { userId: user.id, ...body },
          },
          tx,
        );
      });
      return next;
    },
  );

  defineRoute(
    app,
    hub.api,
    hub.requireAdmin,
    {
      method: 'DELETE',
      url: '/api/v1/users/:id',
      summary: 'Deletes a local user and their sessions',
      tag: 'users',
      auth: 'admin',
      params: IdParams,
      status: 204,
    },
    async ({ params, principal, reply }) => {
      const user = await userOf(params.id);
      if (user.name === hub.config.adminUser)
        throw new HubError('SONDE_ERR_CONFLICT', 'The bootstrap admin (SONDE_ADMIN_USER) cannot be deleted; disable it instead.');
      await core.store.transaction(async (tx) => {
        await tx.users.remove(user.id);
        await core.audit.append(
          {
            action: 'user.delete',
            actor: { kind: principal.kind, id: principal.id, name: principal.name },
            status: 'ok',
            params: { userId: user.id, name: user.name },
          },
          tx,
        );
      });
      return reply.code(204).send();
    },
  );
  await Promise.resolve();
};
