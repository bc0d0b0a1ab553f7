import type { FastifyBaseLogger } from 'fastify';
import type { HubServices, Principal } from '../services.js';
import type { Catalog } from './catalog.js';

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
}

export function endpointPath(endpoint: Endpoint): string {
  return endpoint.kind === 'main' ? '/mcp' : `/mcp/packs/${endpoint.pack}`;
}
