import { createPublicKey } from 'node:crypto';
import {
  EnrollRequestSchema,
  EnrollResponseSchema,
  RenewRequestSchema,
  RenewResponseSchema,
  wireAlgorithmOf,
} from '@sonde/pack-sdk/protocol';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { bearerOf } from '../auth/require-admin.js';
import { grantWireKey } from '../ca/index.js';
import { agentNameProblem, enroll } from '../enrollment/index.js';
import { HubError } from '../errors.js';
import { isScoped } from '../policy/scope.js';
import type { Principal } from '../services.js';
import { defineRoute } from './define.js';
import { enrollCommand, hubUrlFor, wsUrlFor } from './hub-url.js';
import { IdParams, TokenViewSchema } from './schemas.js';

const agentName = EnrollRequestSchema.shape.name;
const CreateTokenBody = z.object({ name: agentName.optional() }).strict();
const CreatedToken = TokenViewSchema.extend({ token: z.string(), command: z.string() });

export const enrollmentRoutes: FastifyPluginAsync = async (app) => {
  const { core, gateway, sonde, hubConfig: config } = app;
  const ca = core.ca!;
  const tokenInScope = (boundName: string | null, principal: Principal): boolean =>
    !isScoped(principal.policy) || (boundName !== null && core.pdp.checkAgent(principal, boundName).allowed);
  const wire = { mode: config.wireSignature, hubKey: core.wire! };

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/enroll',
      summary: 'Agent enrollment: CSR in, client certificate + agent API key out (Bearer enrollment token)',
      tag: 'enrollment',
      auth: 'enrollment-token',
      body: EnrollRequestSchema,
      response: EnrollResponseSchema,
      status: 201,
    },
    async ({ body, request }) => {
      const token = bearerOf(request);
      if (!token) throw new HubError('SONDE_ERR_TOKEN_INVALID', 'Send the enrollment token as "Authorization: Bearer <token>".');
      const result = await enroll(
        {
          store: core.store,
          ca,
          tokens: core.tokens,
          apiKeys: core.apiKeys,
          audit: core.audit,
          revocationKey: { keyId: core.revocations.publicKey().keyId, publicKey: core.revocations.publicKey().publicKey },
          wire,
        },
        token,
        body,
        wsUrlFor(hubUrlFor(config, sonde, request)),
        request.ip,
      );
      // A re-enrolment revoked the previous credentials: a socket still open with them must not outlive that.
      gateway.disconnect(result.agentId, 'agent re-enrolled; previous credentials revoked');
      return result;
    },
  );

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/agents/renew',
      summary: 'Renews the calling agent certificate in its last 30 days (authenticated by that certificate over mTLS)',
      tag: 'enrollment',
      auth: 'client-cert',
      body: RenewRequestSchema,
      response: RenewResponseSchema,
    },
    async ({ body, request }) => {
      // The route's client-cert hook (auth/client-cert.ts) proved the caller is this agent with its current certificate.
      const agent = request.certifiedAgent;
      if (!agent) throw new HubError('SONDE_ERR_CLIENT_CERT_REQUIRED');
      const granted = grantWireKey(wire.mode, body.wireKey, body.csrPem, wire.hubKey);
      // An agent whose wire signature is not the deployment's may renew at any time to move to it (RSA → Ed25519).
      const moves = (granted ? 'ed25519' : 'rsa-sha256') !== wireAlgorithmOf(createPublicKey(agent.publicKeyPem));
      if (!moves && (!agent.certNotAfter || !ca.renewalDue(agent.certNotAfter))) {
        throw new HubError(
          'SONDE_ERR_RENEWAL_NOT_DUE',
          `The certificate is valid until ${agent.certNotAfter}; renew within 30 days of that.`,
        );
      }
      const cert = ca.issueAgentCert(body.csrPem, agent.name, granted?.agentKey);
      const now = new Date().toISOString();
      await core.store.transaction(async (tx) => {
        await tx.revokedCerts.add(agent.certSerial!, agent.id, now, 'renewed');
        await tx.agents.replaceCredentials(agent.id, {
          certPem: cert.certPem,
          certSerial: cert.serial,
          certNotAfter: cert.notAfter,
          publicKeyPem: cert.publicKeyPem,
        });
        await core.audit.append(
          {
            action: 'agent.renew',
            actor: { kind: 'agent', id: agent.id, name: agent.name },
            agents: [agent.name],
            status: 'ok',
            detail: `cert ${cert.serial}, wire ${cert.wireAlgorithm}`,
          },
          tx,
        );
      });
      return {
        agentId: agent.id,
        certPem: cert.certPem,
        caPem: ca.certPem,
        notAfter: cert.notAfter,
        ...(granted ? { wire: granted.grant } : {}),
      };
    },
  );

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/enrollment-tokens',
      summary: 'Creates a single-use, 15-minute enrollment token (optionally bound to an agent name); the token is shown only here',
      tag: 'enrollment',
      auth: 'admin',
      scoped: true,
      body: CreateTokenBody,
      response: CreatedToken,
      status: 201,
    },
    async ({ body, request, principal }) => {
      const nameProblem = body.name ? agentNameProblem(body.name) : undefined;
      if (nameProblem) throw new HubError('SONDE_ERR_NAME_TAKEN', nameProblem);
      // A scoped key binds tokens only to names inside its scope; an unbound token would let the agent pick any name.
      if (isScoped(principal.policy) && (!body.name || !core.pdp.checkAgent(principal, body.name).allowed)) {
        const reason = body.name
          ? `key "${principal.name}" may not bind a token to "${body.name}", outside its agents`
          : `key "${principal.name}" is limited to some agents: a token it makes must be bound to one of their names`;
        await core.audit.append({
          action: 'enrollment_token.create',
          actor: { kind: principal.kind, id: principal.id, name: principal.name },
          agents: body.name ? [body.name] : [],
          status: 'denied',
          detail: reason,
        });
        throw new HubError('SONDE_ERR_POLICY_DENIED', reason);
      }
      const { token, view } = await core.tokens.create(body.name ?? null);
      await core.audit.append({
        action: 'enrollment_token.create',
        actor: { kind: principal.kind, id: principal.id, name: principal.name },
        agents: body.name ? [body.name] : [],
        status: 'ok',
        detail: `token ${view.prefix}${body.name ? ` bound to ${body.name}` : ''}`,
      });
      return { ...view, token, command: enrollCommand(hubUrlFor(config, sonde, request), token, body.name) };
    },
  );

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/enrollment-tokens',
      summary: 'Lists enrollment tokens (masked)',
      tag: 'enrollment',
      auth: 'admin',
      scoped: true,
      response: z.array(TokenViewSchema),
    },
    async ({ principal }) => (await core.tokens.list()).filter((token) => tokenInScope(token.boundName, principal)),
  );

  defineRoute(
    app,
    {
      method: 'DELETE',
      url: '/api/v1/enrollment-tokens/:id',
      summary: 'Revokes an enrollment token',
      tag: 'enrollment',
      auth: 'admin',
      scoped: true,
      params: IdParams,
      status: 204,
    },
    async ({ params, principal, reply }) => {
      if (isScoped(principal.policy)) {
        const token = (await core.tokens.list()).find((candidate) => candidate.id === params.id);
        if (!token || !tokenInScope(token.boundName, principal))
          throw new HubError('SONDE_ERR_TOKEN_NOT_FOUND', `No enrollment token with id "${params.id}".`);
      }
      await core.tokens.revoke(params.id);
      await core.audit.append({
        action: 'enrollment_token.revoke',
        actor: { kind: principal.kind, id: principal.id, name: principal.name },
        status: 'ok',
        detail: params.id,
      });
      return reply.code(204).send();
    },
  );
  await Promise.resolve();
};
