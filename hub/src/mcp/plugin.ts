import { randomBytes } from 'node:crypto';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { PACK_NAME_PATTERN } from '@sonde/pack-sdk';
import type { HubServices, Principal } from '../services.js';
import { DEFAULT_RESULT_BUDGET_BYTES } from './budget.js';
import { CALL_DEADLINE_MS } from './dispatch.js';
import { CatalogCache, type Catalog, type CatalogScope } from './catalog.js';
import { ClientSessions, isInitialize, resolveClientId, SESSION_HEADER, toolCalls } from './client-id.js';
import { CONTEXT_KEY, endpointPath, type CallContext, type Endpoint } from './context.js';
import { bearerToken, headerValue, MAX_REQUEST_BYTES, requestIdOf, sendJsonRpcError, sendUnauthorized } from './http.js';
import { servesIntegrationPack } from './integration-tools.js';
import type { IntegrationToolSource } from './types.js';
import { useJsonSchemaValidator } from './probe-tool-schema.js';
import { rebindingGuard, type HostCheckOptions } from './host-check.js';
import { isModernRequest } from './modern-detect.js';
import { API_KEY_PREFIX } from '../keys/api-keys.js';

const INVALID_KEY = { code: 'invalid_token', description: 'invalid, revoked or non-user API key' } as const;

/**
 * The MCP SDK (server, message schemas, ajv) is about 150 ms of module loading and
 * 7-8 MiB of the idle hub's memory: it loads on the first MCP request, never on
 * the way to /health, and a hub no MCP client uses (only agents and the REST API)
 * never carries it.
 */
async function loadMcpRuntime() {
  const [server, exchange, ajv] = await Promise.all([
    import('./mcp-server.js'),
    import('./json-exchange.js'),
    import('@modelcontextprotocol/sdk/validation/ajv'),
  ]);
  useJsonSchemaValidator(new ajv.AjvJsonSchemaValidator());
  return { createMcpServer: server.createMcpServer, StatelessMux: exchange.StatelessMux, readMessages: exchange.readMessages };
}

/** The 2026-07-28 revision's runtime (SDK v2, modern.ts): loaded on the first request that speaks it. */
async function loadModernRuntime(config: HubServices['config']) {
  const [modern, ajv] = await Promise.all([import('./modern.js'), import('@modelcontextprotocol/sdk/validation/ajv')]);
  // The probe tools' argument validators (probe-tool-schema.ts) are shared with the 2025 path.
  useJsonSchemaValidator(new ajv.AjvJsonSchemaValidator());
  return modern.createModernHandler(config);
}
type McpRuntime = Awaited<ReturnType<typeof loadMcpRuntime>>;
type StatelessMuxOf<R extends McpRuntime> = InstanceType<R['StatelessMux']>;

export interface McpPluginOptions {
  services: HubServices;
  /** Signs the stateless session tokens; hubs behind one load balancer share it. Default: random per process. */
  sessionSecret?: Buffer;
  /** Result budget per tool call (default 64 KiB, the tightest real client's limit). */
  resultBudgetBytes?: number;
  /** How long one call waits for agents before answering with what it has (default 40 s, at most 40 s). */
  callDeadlineMs?: number;
  /** Integration probes the hub runs itself (hub/src/integrations), exposed by integration-tools.ts. */
  integrations?: IntegrationToolSource;
  /** OAuth access tokens from the hub's authorization server (hub/src/oauth), beside API keys. */
  oauth?: OAuthResource;
  /** DNS-rebinding protection (host-check.ts); default: only loopback names and IP addresses as `Host`. */
  hostCheck?: HostCheckOptions;
}

/** The resource-server side of hub/src/oauth, as the MCP endpoint uses it. */
export interface OAuthResource {
  authenticate(
    token: string,
  ): Promise<
    { ok: true; principal: Principal; clientId: string } | { ok: false; code: 'invalid_token' | 'insufficient_scope'; description: string }
  >;
  /** `WWW-Authenticate` naming the Protected Resource Metadata (RFC 9728) of this endpoint. */
  challenge(endpointPath: string, error?: { code: 'invalid_token' | 'insufficient_scope'; description: string }): string;
}

/**
 * `/mcp` and `/mcp/packs/<pack>`: MCP Streamable HTTP, stateless. Every POST is
 * authenticated (Bearer API key), its client checked against the key's policy,
 * then handed to the hub's one MCP server through a multiplexing transport that
 * answers JSON (json-exchange.ts).
 * Register encapsulated (`app.register(mcpPlugin, { services })`): the error
 * handler below shapes errors for these routes only.
 */
export const mcpPlugin: FastifyPluginAsync<McpPluginOptions> = (app, options) => {
  const { services } = options;
  const catalogs = new CatalogCache(services.fleet, services.config.serverName);
  const sessions = new ClientSessions(options.sessionSecret ?? randomBytes(32));
  let runtime: Promise<{ mcp: McpRuntime; mux: StatelessMuxOf<McpRuntime> }> | undefined;
  const loadRuntime = (): Promise<{ mcp: McpRuntime; mux: StatelessMuxOf<McpRuntime> }> =>
    (runtime ??= loadMcpRuntime().then(
      async (mcp) => {
        // One server for every request: its handlers read the caller from each request (mcp-server.ts).
        const mux = new mcp.StatelessMux();
        await mcp.createMcpServer(services.config).connect(mux);
        return { mcp, mux };
      },
      (error: unknown) => {
        runtime = undefined; // a later request tries again
        throw error;
      },
    ));
  let modernRuntime: ReturnType<typeof loadModernRuntime> | undefined;
  const loadModern = () =>
    (modernRuntime ??= loadModernRuntime(services.config).catch((error: unknown) => {
      modernRuntime = undefined;
      throw error;
    }));
  app.addHook('onClose', async () => {
    if (modernRuntime) await (await modernRuntime.catch(() => undefined))?.close();
  });
  const resultBudgetBytes = options.resultBudgetBytes ?? DEFAULT_RESULT_BUDGET_BYTES;
  const callDeadlineMs = Math.min(CALL_DEADLINE_MS, options.callDeadlineMs ?? CALL_DEADLINE_MS);

  // Before authentication: a rebinding page is refused whatever credential it carries.
  app.addHook('onRequest', rebindingGuard(options.hostCheck ?? { publicUrl: undefined, allowedHosts: [] }));

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendJsonRpcError(reply, 413, 'SONDE_ERR_REQUEST_TOO_LARGE', `request body over ${MAX_REQUEST_BYTES} bytes`);
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return sendJsonRpcError(reply, 415, 'SONDE_ERR_BAD_REQUEST', 'Content-Type must be application/json');
    }
    if ((error.statusCode ?? 500) < 500)
      return sendJsonRpcError(reply, 400, 'SONDE_ERR_BAD_REQUEST', `invalid JSON-RPC request: ${error.message}`);
    request.log.error({ err: error }, 'mcp request failed');
    return sendJsonRpcError(reply, 500, 'SONDE_ERR_INTERNAL', 'internal error; the hub log has details');
  });

  /**
   * The caller from the Bearer credential: a `sonde_` API key, or (with hub/src/oauth) an OAuth access token, whose
   * client id is the OAuth client's, not a self-declared name. A refusal answers 401 (403 for a missing scope) with
   * the challenge that lets an MCP client discover the authorization server from a bare 401.
   */
  async function authenticate(
    request: FastifyRequest,
    reply: FastifyReply,
    endpoint: Endpoint,
  ): Promise<{ principal: Principal; oauthClient?: string } | undefined> {
    const { oauth } = options;
    const path = endpointPath(endpoint);
    const token = bearerToken(request);
    if (!token) {
      sendUnauthorized(
        reply,
        oauth
          ? 'authorization required: sign in through OAuth or send Authorization: Bearer <API key>'
          : 'missing API key: send Authorization: Bearer <key>',
        oauth?.challenge(path),
      );
      return undefined;
    }
    if (!oauth || token.startsWith(API_KEY_PREFIX)) {
      const principal = await services.authenticateApiKey(token);
      if (principal) return { principal };
      sendUnauthorized(reply, 'invalid, revoked or non-user API key', oauth?.challenge(path, INVALID_KEY));
      return undefined;
    }
    const checked = await oauth.authenticate(token);
    if (!checked.ok) {
      const status = checked.code === 'insufficient_scope' ? 403 : 401;
      reply.header('www-authenticate', oauth.challenge(path, { code: checked.code, description: checked.description }));
      sendJsonRpcError(reply, status, 'SONDE_ERR_UNAUTHORIZED', checked.description);
      return undefined;
    }
    return { principal: checked.principal, oauthClient: checked.clientId };
  }

  async function handlePost(request: FastifyRequest, reply: FastifyReply, endpoint: Endpoint): Promise<FastifyReply> {
    const caller = await authenticate(request, reply, endpoint);
    if (!caller) return reply;
    const { principal } = caller;
    const body = request.body;
    if (!body || typeof body !== 'object')
      return sendJsonRpcError(reply, 400, 'SONDE_ERR_BAD_REQUEST', 'the body must be a JSON-RPC message or batch');

    // An OAuth client is who the authorization server says it is; a key's client names itself.
    const clientId = caller.oauthClient ?? resolveClientId(request.headers, body, sessions, principal.id).clientId;
    const clientDecision = services.pdp.checkClient(principal, clientId);
    if (!clientDecision.allowed) {
      // A refused tool call is still a call: it is audited once, as denied, like any other policy refusal.
      for (const call of toolCalls(body)) {
        await services.audit.append({
          action: 'mcp.tool_call',
          actor: { kind: principal.kind, id: principal.id, name: principal.name },
          clientId: clientId ?? null,
          tool: call.name,
          agents: [],
          probe: null,
          params: call.arguments,
          status: 'denied',
          resultBytes: 0,
          durationMs: 0,
          detail: `client not allowed: ${clientDecision.reason}`,
        });
      }
      const hint = clientId
        ? `MCP client "${clientId}" may not use this API key`
        : 'this API key is limited to named MCP clients; reconnect (initialize) or send X-Sonde-Client';
      return sendJsonRpcError(reply, 403, 'SONDE_ERR_CLIENT_DENIED', `${hint}: ${clientDecision.reason}`, requestIdOf(body));
    }
    // The catalog is built from the agents this key may reach only (catalog.ts).
    const scope: CatalogScope = {
      key: JSON.stringify(principal.policy.allowedAgents),
      reaches: (agentName) => services.pdp.checkAgent(principal, agentName).allowed,
    };
    if (
      endpoint.kind === 'pack' &&
      !catalogs.get(scope).packs.has(endpoint.pack) &&
      !servesIntegrationPack(options.integrations, endpoint.pack)
    ) {
      return sendJsonRpcError(
        reply,
        404,
        'SONDE_ERR_UNKNOWN_PACK',
        `no agent serves pack ${endpoint.pack}; list_capabilities on /mcp lists the packs`,
        requestIdOf(body),
      );
    }

    let catalog: Catalog | undefined;
    // The client went away before the answer (closed its POST): probes still waiting for agents stop, on this hub or
    // on the hub holding the agent (cluster/dispatcher.ts), and the call is audited as cancelled.
    const gone = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableEnded) gone.abort();
    });
    const ctx: CallContext = {
      signal: gone.signal,
      services,
      principal,
      clientId,
      endpoint,
      // Only tools/list and tools/call need the catalog; initialize and ping skip the fleet scan.
      get catalog() {
        return (catalog ??= catalogs.get(scope));
      },
      resultBudgetBytes,
      callDeadlineMs,
      log: request.log,
      integrations: options.integrations,
    };
    const protocolVersion = headerValue(request.headers['mcp-protocol-version']);
    if (isModernRequest(protocolVersion, body)) {
      // 2026-07-28: no initialize, no session; the SDK v2 answers with the same tools (modern.ts).
      const modern = await loadModern();
      const answer = await modern.exchange(`${services.config.publicUrl}${endpointPath(endpoint)}`, request.headers, body, ctx);
      reply.code(answer.status);
      for (const [name, value] of answer.headers) if (name !== 'content-length') reply.header(name, value);
      return answer.body === '' ? reply.send() : reply.send(answer.body);
    }
    const authInfo: AuthInfo = { token: '', clientId: clientId ?? 'unknown', scopes: [], extra: { [CONTEXT_KEY]: ctx } };
    const { mcp, mux } = await loadRuntime();
    const checked = mcp.readMessages(body, protocolVersion);
    if ('reply' in checked) return reply.code(checked.reply.status).send(checked.reply.body);
    const answer = await mux.exchange(checked.messages, { authInfo });
    reply.code(answer.status);
    if (clientId && answer.status === 200 && isInitialize(body)) reply.header(SESSION_HEADER, sessions.issue(principal.id, clientId));
    return answer.body === undefined ? reply.send() : reply.header('content-type', 'application/json').send(answer.body);
  }

  function methodNotAllowed(_request: FastifyRequest, reply: FastifyReply): FastifyReply {
    // Stateless: no server-initiated stream to resume, so GET is refused as the transport spec allows.
    reply.header('allow', 'POST, DELETE');
    return sendJsonRpcError(reply, 405, 'SONDE_ERR_METHOD_NOT_ALLOWED', 'this MCP endpoint is stateless: use POST');
  }

  async function endSession(request: FastifyRequest, reply: FastifyReply, endpoint: Endpoint): Promise<FastifyReply> {
    const caller = await authenticate(request, reply, endpoint);
    if (!caller) return reply;
    // Nothing is kept per session, so there is nothing to end.
    return reply.code(200).send();
  }

  const packEndpoint = (request: FastifyRequest): Endpoint | undefined => {
    const pack = (request.params as { pack?: string }).pack ?? '';
    return PACK_NAME_PATTERN.test(pack) ? { kind: 'pack', pack } : undefined;
  };

  app.post('/mcp', { bodyLimit: MAX_REQUEST_BYTES }, (request, reply) => handlePost(request, reply, { kind: 'main' }));
  app.post('/mcp/packs/:pack', { bodyLimit: MAX_REQUEST_BYTES }, (request, reply) => {
    const endpoint = packEndpoint(request);
    if (!endpoint) return sendJsonRpcError(reply, 404, 'SONDE_ERR_UNKNOWN_PACK', 'not a pack name');
    return handlePost(request, reply, endpoint);
  });
  app.get('/mcp', methodNotAllowed);
  app.get('/mcp/packs/:pack', methodNotAllowed);
  app.delete('/mcp', (request, reply) => endSession(request, reply, { kind: 'main' }));
  app.delete('/mcp/packs/:pack', (request, reply) => endSession(request, reply, packEndpoint(request) ?? { kind: 'main' }));
  return Promise.resolve();
};
