import type { DispatchRequest, DispatchResult, ProbeDispatcher } from '../services.js';
import type { AgentDirectory } from '../fleet/directory.js';
import type { ConnectionRegistry } from './registry.js';

/**
 * Delivers probe requests to agents connected to THIS hub process and waits
 * for the answer (pending requests live on each connection, keyed by
 * requestId). It is deliberately only `dispatch()`: a multi-hub build puts a
 * dispatcher in front that looks up which hub holds the agent's socket and
 * forwards the request there over NATS, falling back to this one for local
 * sockets, without the MCP layer or REST routes changing.
 *
 * Never throws and never waits on an agent that is not connected: an unknown
 * agent is an `error`, a known but disconnected one `offline` at once.
 */
export class LocalProbeDispatcher implements ProbeDispatcher {
  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly directory: AgentDirectory,
  ) {}

  async dispatch(request: DispatchRequest): Promise<DispatchResult> {
    const connection = this.registry.find(request.agent);
    if (!connection) return this.notConnected(request);
    if (request.signal?.aborted) {
      return {
        agent: connection.name,
        probe: request.probe,
        status: 'error',
        error: { code: 'SONDE_ERR_CANCELLED', message: 'the request was cancelled' },
        durationMs: 0,
        truncated: false,
      };
    }
    const answer = await connection.request(request.probe, request.params, request.timeoutMs, request.signal);
    return { agent: connection.name, probe: request.probe, ...answer };
  }

  private notConnected(request: DispatchRequest): DispatchResult {
    const record = this.directory.find(request.agent);
    if (!record || record.removedAt) {
      return {
        agent: request.agent,
        probe: request.probe,
        status: 'error',
        error: { code: 'SONDE_ERR_UNKNOWN_AGENT', message: `no agent named ${request.agent}` },
        durationMs: 0,
        truncated: false,
      };
    }
    return {
      agent: record.name,
      probe: request.probe,
      status: 'offline',
      error: {
        code: 'SONDE_ERR_AGENT_OFFLINE',
        message: `agent ${record.name} is offline, last seen ${describeLastSeen(record.lastSeenAt)}`,
      },
      durationMs: 0,
      truncated: false,
    };
  }
}

/** "2026-11-24T00:31:02.000Z (4 min ago)" or "never". */
export function describeLastSeen(lastSeenAt: string | null, now: number = Date.now()): string {
  if (!lastSeenAt) return 'never';
  const at = Date.parse(lastSeenAt);
  if (Number.isNaN(at)) return lastSeenAt;
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  const ago =
    seconds < 60
      ? `${seconds} s ago`
      : seconds < 3600
        ? `${Math.round(seconds / 60)} min ago`
        : seconds < 172_800
          ? `${Math.round(seconds / 3600)} h ago`
          : `${Math.round(seconds / 86_400)} days ago`;
  return `${new Date(at).toISOString()} (${ago})`;
}
