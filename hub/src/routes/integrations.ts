import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { PACK_NAME_PATTERN, PermissionsSchema } from '@sonde/pack-sdk';
import { actorOf } from '../integrations/service.js';
import { defineRoute } from './define.js';
import { IdParams } from './schemas.js';

/**
 * `/api/v1/integrations/…`: integration packs the hub runs itself (admin
 * only). Packs: list with states and the pending permission diff, install
 * (npm spec or a path on the hub), approve, remove, reload. Instances: CRUD
 * and Test Connection; credentials go in and are never returned.
 */

const RefusalSchema = z.object({ code: z.string(), reason: z.string(), file: z.string().optional() });
const ChangeSchema = z.object({ kind: z.string(), key: z.string(), description: z.string() });
const DiffSchema = z.object({ added: z.array(ChangeSchema), removed: z.array(ChangeSchema), widened: z.boolean() });

const PackViewSchema = z.object({
  name: z.string(),
  packageName: z.string(),
  state: z.enum(['active', 'pending', 'refused']),
  activeVersion: z.string().nullable(),
  approvedVersion: z.string().nullable(),
  approvedAt: z.string().nullable(),
  approvedBy: z.string().nullable(),
  description: z.string(),
  probes: z.array(z.string()),
  /** What the shown version declares (the active one, else the approved or pending one); null when none verifies. */
  permissions: PermissionsSchema.nullable(),
  pending: z.object({ version: z.string(), diff: DiffSchema }).nullable(),
  refused: RefusalSchema.nullable(),
  versions: z.array(
    z.object({
      version: z.string(),
      integrity: z.string(),
      keyId: z.string(),
      publishedAt: z.string(),
      installedAt: z.string(),
      state: z.enum(['pending', 'approved', 'superseded']),
      permissionsDigest: z.string(),
      refused: RefusalSchema.nullable(),
    }),
  ),
  instances: z.array(z.string()),
});

const InstanceViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  pack: z.string(),
  endpoint: z.string(),
  credentialNames: z.array(z.string()).describe('Which credentials are set; values are never returned'),
  status: z.enum(['untested', 'connected', 'error']),
  lastError: z.string().nullable(),
  lastCheckedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const PackParams = z.object({ name: z.string().regex(PACK_NAME_PATTERN, 'a pack name') }).strict();

const InstallBody = z
  .object({
    spec: z
      .string()
      .min(1)
      .max(300)
      .regex(/^[^-\s][^\s]*$/, 'an npm package spec such as @sonde/pack-prometheus@^1.0.0')
      .optional()
      .describe('npm package spec, fetched with `npm pack --ignore-scripts` (the hub user .npmrc applies)'),
    path: z.string().min(1).max(4096).optional().describe('A pack folder or .tgz on the hub machine'),
    allowDowngrade: z.boolean().default(false),
  })
  .strict()
  .refine((b) => (b.spec === undefined) !== (b.path === undefined), 'give exactly one of spec or path');

const ApproveBody = z
  .object({
    version: z.string().min(1).max(100).optional().describe('Default: the newest pending version'),
    allowDowngrade: z.boolean().default(false),
  })
  .strict();

const InstanceName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, '1-63 letters, digits, dot, dash or underscore, starting with a letter or digit');

const Endpoint = z
  .url({ protocol: /^https?$/, error: 'an http(s) URL such as https://pve.example.com:8006' })
  .max(2048)
  .refine((u) => {
    const url = new URL(u);
    return url.username === '' && url.password === '' && url.search === '' && url.hash === '';
  }, 'no user, password, query or fragment in the endpoint (credentials go in `credentials`)')
  .transform((u) => u.replace(/\/+$/, ''));

const Credentials = z
  .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/), z.string().min(1).max(8192))
  .refine((c) => Object.keys(c).length <= 16, 'at most 16 credentials')
  .describe('Credential values by the names the pack declares; stored sealed, never returned');

const CreateInstanceBody = z
  .object({ name: InstanceName, pack: z.string().regex(PACK_NAME_PATTERN), endpoint: Endpoint, credentials: Credentials.optional() })
  .strict();
const UpdateInstanceBody = z
  .object({ name: InstanceName.optional(), endpoint: Endpoint.optional(), credentials: Credentials.optional() })
  .strict();

/** An integration pack as REST shows it (the CLI's `integrations` commands read the same shape). */
export type IntegrationPackView = z.infer<typeof PackViewSchema>;
export type PermissionDiff = z.infer<typeof DiffSchema>;

export const integrationRoutes: FastifyPluginAsync = async (app) => {
  const { integrations } = app;
  const tag = 'integrations';

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/integrations/status',
      summary: 'Trust store and packs folder in use, the sandbox isolation level and each instance process',
      tag,
      auth: 'admin',
      response: z.object({
        trustFile: z.string(),
        trustProblem: RefusalSchema.nullable().describe('Why no pack can verify (missing or invalid trust store)'),
        packsDir: z.string(),
        isolation: z.string(),
        processes: z.array(
          z.object({
            instance: z.string(),
            pack: z.string(),
            status: z.string(),
            reason: z.string().nullable(),
            restarts: z.number(),
            startupMs: z.number().nullable(),
          }),
        ),
      }),
    },
    async () => await integrations.status(),
  );

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/integrations/packs',
      summary: 'Lists integration packs with their state, versions and pending permission diff',
      tag,
      auth: 'admin',
      response: z.array(PackViewSchema),
    },
    async () => await integrations.list(),
  );

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/integrations/packs/:name',
      summary: 'One integration pack',
      tag,
      auth: 'admin',
      params: PackParams,
      response: PackViewSchema,
    },
    async ({ params }) => await integrations.get(params.name),
  );

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/integrations/packs',
      summary: 'Installs (or updates) an integration pack from an npm spec or a path on the hub; verified before anything is written',
      tag,
      auth: 'admin',
      body: InstallBody,
      response: z.object({
        pack: PackViewSchema,
        version: z.string(),
        outcome: z.enum(['pending', 'active', 'unchanged']),
        diff: DiffSchema,
      }),
      status: 201,
    },
    async ({ body, principal }) => await integrations.install(body, actorOf(principal)),
  );

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/integrations/packs/:name/approve',
      summary: 'Approves a pending version (and the permissions it declares); it serves at once',
      tag,
      auth: 'admin',
      params: PackParams,
      body: ApproveBody,
      response: z.object({ pack: PackViewSchema, diff: DiffSchema }),
    },
    async ({ params, body, principal }) => await integrations.approve(params.name, actorOf(principal), body),
  );

  defineRoute(
    app,
    {
      method: 'DELETE',
      url: '/api/v1/integrations/packs/:name',
      summary: 'Removes a pack: every version, its instances and their processes',
      tag,
      auth: 'admin',
      params: PackParams,
      response: z.object({ removed: z.string() }),
    },
    async ({ params, principal }) => {
      await integrations.remove(params.name, actorOf(principal));
      return { removed: params.name };
    },
  );

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/integrations/reload',
      summary: 'Re-reads the trust store and verifies every installed pack again',
      tag,
      auth: 'admin',
      response: z.array(PackViewSchema),
    },
    async ({ principal }) => {
      await integrations.load('reload', actorOf(principal));
      return await integrations.list();
    },
  );

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/integrations/instances',
      summary: 'Lists integration instances (never their credentials)',
      tag,
      auth: 'admin',
      query: z.object({ pack: z.string().regex(PACK_NAME_PATTERN).optional() }).strict(),
      response: z.array(InstanceViewSchema),
    },
    async ({ query }) => await integrations.listInstances(query.pack),
  );

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/integrations/instances',
      summary: 'Creates an instance of a pack: endpoint and credentials (sealed at rest)',
      tag,
      auth: 'admin',
      body: CreateInstanceBody,
      response: InstanceViewSchema,
      status: 201,
    },
    async ({ body, principal }) => await integrations.createInstance(body, actorOf(principal)),
  );

  defineRoute(
    app,
    {
      method: 'GET',
      url: '/api/v1/integrations/instances/:id',
      summary: 'One instance by id or name',
      tag,
      auth: 'admin',
      params: IdParams,
      response: InstanceViewSchema,
    },
    async ({ params }) => await integrations.getInstance(params.id),
  );

  defineRoute(
    app,
    {
      method: 'PATCH',
      url: '/api/v1/integrations/instances/:id',
      summary: 'Changes name, endpoint or credentials (replaced as a set); the status goes back to untested',
      tag,
      auth: 'admin',
      params: IdParams,
      body: UpdateInstanceBody,
      response: InstanceViewSchema,
    },
    async ({ params, body, principal }) => await integrations.updateInstance(params.id, body, actorOf(principal)),
  );

  defineRoute(
    app,
    {
      method: 'DELETE',
      url: '/api/v1/integrations/instances/:id',
      summary: 'Removes an instance and stops its pack process',
      tag,
      auth: 'admin',
      params: IdParams,
      response: z.object({ removed: z.string() }),
    },
    async ({ params, principal }) => {
      await integrations.removeInstance(params.id, actorOf(principal));
      return { removed: params.id };
    },
  );

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/integrations/instances/:id/test',
      summary: "Test Connection: runs the pack's connection probe and stores Connected or Error with the reason",
      tag,
      auth: 'admin',
      params: IdParams,
      response: InstanceViewSchema.extend({ probe: z.string().nullable(), durationMs: z.number() }),
    },
    async ({ params, principal }) => await integrations.testConnection(params.id, actorOf(principal)),
  );
  await Promise.resolve();
};
