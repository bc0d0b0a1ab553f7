import type { FastifyBaseLogger } from 'fastify';
import type { HubServices, Principal } from '../services.js';
import type { Catalog } from './catalog.js';
import type { IntegrationToolSource } from './types.js';

/** Key under which the HTTP layer hands the per-request context to handlers (through the SDK's authInfo). */
export const CONTEXT_KEY = 'sonde';

/** Where a request arrived: `/mcp` or one pack's endpoint `/mcp/packs/<pack>`. */
export type Endpoint = { kind: 'main' } | { kind: 'pack'; pack: string };

/** Everything a tool handler knows about its caller; built per HTTP request, passed through the SDK's authInfo. */
export interface CallContext {
  services: HubServices;
  principal: Principal;
  clientId: string | undefined;
  endpoint: Endpoint;
  catalog: Catalog;
  resultBudgetBytes: number;
  /** How long a call may wait for agents (default CALL_DEADLINE_MS); the answer itself always comes within 45 s. */
  callDeadlineMs: number;
  log?: FastifyBaseLogger;
  /** Integration probes run by the hub itself (integration-tools.ts); absent when the hub has none configured. */
  integrations?: IntegrationToolSource;
  /** Aborted when the caller goes away (its POST closed before the answer) or cancels the call (notifications/cancelled). */
  signal?: AbortSignal;
}

export function endpointPath(endpoint: Endpoint): string {
  return endpoint.kind === 'main' ? '/mcp' : `/mcp/packs/${endpoint.pack}`;
}
