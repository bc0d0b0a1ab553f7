import { PublicKeyFileSchema, RevocationListSchema, RevokedKeySchema, RevokedPackSchema } from '@sonde/registry';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { defineRoute } from './define.js';

const RevocationStateSchema = z.object({
  /** The newest signed list, null until the first revocation. */
  list: RevocationListSchema.nullable(),
  /** The key that signs it; agents pin it at enrollment (`sonde trust add-key <file> --role hub` for agents enrolled earlier). */
  key: PublicKeyFileSchema,
});

const RevokeBodySchema = z
  .object({
    keys: z.array(RevokedKeySchema).max(100).default([]),
    packs: z.array(RevokedPackSchema).max(100).default([]),
  })
  .strict()
  .refine((body) => body.keys.length + body.packs.length > 0, 'name at least one key or pack version to revoke');

/** The hub-signed revocation list of publisher keys and pack versions (admin only). */
export const revocationRoutes: FastifyPluginAsync = async (app) => {
  const { revocations } = app.core;

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/revocations',
      summary: 'The current signed revocation list and the public key that signs it',
      tag: 'packs',
      auth: 'admin',
      response: RevocationStateSchema,
    },
    async () => ({ list: (await revocations.current()) ?? null, key: revocations.publicKey() }),
  );

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/revocations',
      summary: 'Revokes publisher keys and/or pack versions: signs the next list (serial + 1) and pushes it to every connected agent',
      tag: 'packs',
      auth: 'admin',
      body: RevokeBodySchema,
      response: RevocationStateSchema,
    },
    async ({ body, principal }) => {
      const list = await revocations.revoke(body, {
        kind: principal.kind === 'user' ? 'user' : 'api_key',
        id: principal.id,
        name: principal.name,
      });
      return { list, key: revocations.publicKey() };
    },
  );
  await Promise.resolve();
};
