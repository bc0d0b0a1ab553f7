import type { PackStatus } from '@sonde/pack-sdk/protocol';
import type { HubStore } from './store/types.js';
import type { AuditEntryInput, AuditRecord, KeyPolicy, Role } from './model.js';

export type { AuditEntryInput, AuditRecord, KeyPolicy, Role } from './model.js';

/**
 * The seams between the hub's plugins. The MCP layer and the REST routes are
 * written against these interfaces only, so storage (SQLite today, PostgreSQL
 * later) and probe routing (this process today, another hub over NATS later)
 * can change behind them.
 */

/** Who is asking: an API key or a dashboard user session. */
export interface Principal {
  kind: 'api_key' | 'user';
  /** Key id or user id. */
  id: string;
  /** Key name or user name, for audit and messages. */
  name: string;
  role: Role;
  policy: KeyPolicy;
}

export type Decision = { allowed: true } | { allowed: false; reason: string };

/**
 * The one policy decision point. Every MCP tool and every REST route asks it
 * before anything runs; nothing else interprets a KeyPolicy.
 */
export interface PolicyDecisionPoint {
  /** MCP client id restriction (`allowedClients`). */
  checkClient(principal: Principal, clientId: string | undefined): Decision;
  /** Whether the principal may see or query this agent (by name). */
  checkAgent(principal: Principal, agentName: string): Decision;
  /** Whether the principal may run this probe (full name) on this agent. */
  checkProbe(principal: Principal, agentName: string, probe: string): Decision;
  /** REST administration needs the admin role. */
  checkAdmin(principal: Principal): Decision;
}

export type AgentStatus = 'online' | 'offline' | 'degraded';

export interface AgentView {
  id: string;
  name: string;
  status: AgentStatus;
  /** Why degraded (attestation changed, duplicate identity, failed packs, …). */
  reasons: string[];
  connected: boolean;
  lastSeenAt: string | null;
  enrolledAt: string;
  agentVersion: string | null;
  os: string | null;
  packs: PackStatus[];
  isolation: string | null;
}

export interface Fleet {
  list(): AgentView[];
  /** By name or id. */
  get(nameOrId: string): AgentView | undefined;
  /** Optional: changes whenever agents' packs, records or connections change, so derived views can be cached. */
  version?(): number | undefined;
  /** Optional: id and name of an agent (by name or id) without building its view, for per-dispatch lookups. */
  identify?(nameOrId: string): { id: string; name: string } | undefined;
}

export interface DispatchRequest {
  /** Agent name or id. */
  agent: string;
  /** Full probe name, e.g. `system.disk.usage`. */
  probe: string;
  params: Record<string, unknown>;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface DispatchResult {
  agent: string;
  probe: string;
  status: 'ok' | 'error' | 'timeout' | 'denied' | 'offline';
  result?: unknown;
  error?: { code: string; message: string };
  durationMs: number;
  truncated: boolean;
}

/**
 * Routes a probe request to whichever connection holds the agent. Policy is
 * decided before this is called; the dispatcher only delivers and waits.
 */
export interface ProbeDispatcher {
  dispatch(request: DispatchRequest): Promise<DispatchResult>;
}

export interface AuditLog {
  /**
   * Resolves once the entry is committed: await it before answering, so an answered call is never missing from the log.
   * With `tx` the entry is written in that transaction (and commits or rolls back with it) instead of a group commit.
   */
  append(entry: AuditEntryInput, tx?: HubStore): Promise<AuditRecord>;
}

/**
 * The seam the MCP layer is written against, decorated as `sonde` (plugins/foundation.ts `servicesPlugin`). It owns
 * nothing: `pdp` and `audit` are HubCore's, lent; `fleet` is the gateway's view and `dispatcher` the gateway's probe
 * routing as callers see it (admitted per agent, counted by the metrics). REST routes read the fleet, the dispatcher
 * and the public URL here, and everything on the database from `core`.
 */
export interface HubServices {
  pdp: PolicyDecisionPoint;
  fleet: Fleet;
  dispatcher: ProbeDispatcher;
  audit: AuditLog;
  /** Resolves a raw Bearer API key to a principal; agent keys resolve to undefined here. */
  authenticateApiKey(rawKey: string): Promise<Principal | undefined>;
  config: { mcpMaxTools: number; serverName: string; hubVersion: string; publicUrl: string };
}
