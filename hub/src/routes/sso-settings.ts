import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { HubError } from '../errors.js';
import type { ClientSecretSource } from '../identity/index.js';
import type { Principal } from '../services.js';
import { defineRoute } from './define.js';

const SecretStatusSchema = z.object({
  /** Where the secret in use comes from; its value is never returned. */
  source: z.enum(['environment', 'api', 'none']),
});
const SetSecretBody = z.object({ clientSecret: z.string().min(1).max(4096) }).strict();

/**
 * The OpenID Connect client secret through the API (sealed at rest:
 * identity/client-secret.ts). Refused while SONDE_OIDC_CLIENT_SECRET or
 * SONDE_ENTRA_CLIENT_SECRET sets it, and when no provider is configured.
 */
export const ssoSettingsRoutes: FastifyPluginAsync = async (app) => {
  const { core, auth } = app;
  const secrets = () => {
    if (!auth.sso)
      throw new HubError(
        'SONDE_ERR_CONFLICT',
        'Single sign-on is not configured (SONDE_OIDC_ISSUER or SONDE_ENTRA_ENABLED): no secret to set.',
      );
    return auth.sso.clientSecrets;
  };
  const changeable = async (): Promise<void> => {
    if ((await secrets().source()) === 'environment')
      throw new HubError(
        'SONDE_ERR_CONFLICT',
        'The client secret comes from the environment (SONDE_OIDC_CLIENT_SECRET or SONDE_ENTRA_CLIENT_SECRET); remove it there to manage it here.',
      );
  };
  const audit = (action: string, principal: Principal) =>
    core.audit.append({
      action,
      actor: { kind: principal.kind, id: principal.id, name: principal.name },
      status: 'ok',
      detail: 'OpenID Connect client secret (value not recorded)',
    });

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/auth/oidc/client-secret',
      summary: 'Where the single sign-on client secret comes from (environment, api, none); never its value',
      tag: 'users',
      auth: 'admin',
      response: SecretStatusSchema,
    },
    async () => ({ source: await secrets().source() }),
  );

  defineRoute(
    app,
    {
      method: 'PUT',
      url: '/api/v1/auth/oidc/client-secret',
      summary: 'Sets the single sign-on client secret, sealed at rest with SONDE_SECRET; applies from the next sign-in',
      tag: 'users',
      auth: 'admin',
      body: SetSecretBody,
      response: SecretStatusSchema,
    },
    async ({ body, principal }) => {
      await changeable();
      await secrets().set(body.clientSecret);
      await audit('identity.client_secret.set', principal);
      return { source: 'api' as ClientSecretSource };
    },
  );

  defineRoute(
    app,
    {
      method: 'DELETE',
      url: '/api/v1/auth/oidc/client-secret',
      summary: 'Forgets the client secret set through the API',
      tag: 'users',
      auth: 'admin',
      response: SecretStatusSchema,
    },
    async ({ principal }) => {
      await changeable();
      await secrets().clear();
      await audit('identity.client_secret.clear', principal);
      return { source: 'none' as ClientSecretSource };
    },
  );
  await Promise.resolve();
};
