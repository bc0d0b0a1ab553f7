import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AgentDirectory } from '../fleet/directory.js';
import { DEFAULT_PROBE_TIMEOUT_MS, DISPATCH_MARGIN_MS, MAX_DISPATCH_WAIT_MS } from '../gateway/connection.js';
import { fitJson } from '../mcp/budget.js';
import type { DispatchRequest, DispatchResult, ProbeDispatcher } from '../services.js';
import { PAYLOAD_MARGIN_BYTES, type ClusterBus } from './bus.js';
import type { Presence } from './presence.js';

/** What travels to the holder hub: the agent by id (names are resolved once, here). */
export const RemoteProbeSchema = z
  .object({
    agentId: z.string().uuid(),
    probe: z.string().min(1).max(200),
    params: z.record(z.string(), z.unknown()),
    timeoutMs: z.number().int().min(1).max(MAX_DISPATCH_WAIT_MS),
    /** Names this call for a later `cancel` from the same hub (absent from hubs of an earlier build). */
    callId: z.string().uuid().optional(),
  })
  .strict();

/** The caller gave up (MCP cancellation, client gone, its deadline): the holder stops waiting and frees the agent's slot. */
export const RemoteCancelSchema = z.object({ callId: z.string().uuid() }).strict();

const DispatchResultSchema = z.object({
  agent: z.string(),
  probe: z.string(),
  status: z.enum(['ok', 'error', 'timeout', 'denied', 'offline']),
  result: z.unknown().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  durationMs: z.number(),
  truncated: z.boolean(),
});

/** Time on top of the holder's own wait for the NATS round trip, so the holder's timeout answer normally arrives first. */
const NETWORK_MARGIN_MS = 500;
/** How long a cancel notice to the holder may take before the caller forgets about it. */
const CANCEL_WAIT_MS = 2_000;

/**
 * Multi-hub routing: an agent held by this hub goes to the local dispatcher
 * (exactly as on a single hub); one held by another live hub is sent there
 * over NATS request/reply with the remaining deadline as the timeout. The
 * holder signs the agent frame and verifies the answer as it does for its own
 * callers. "No responders" means the holder hub is gone: offline at once.
 * Never throws.
 */
export class ClusterDispatcher implements ProbeDispatcher {
  constructor(
    private readonly local: ProbeDispatcher,
    private readonly directory: AgentDirectory,
    private readonly presence: Presence,
    private readonly bus: ClusterBus,
    private readonly hubId: string,
  ) {}

  async dispatch(request: DispatchRequest): Promise<DispatchResult> {
    const record = this.directory.find(request.agent);
    const holder = record && !record.removedAt ? this.presence.holderOf(record.id) : undefined;
    if (!record || !holder || holder === this.hubId) return this.local.dispatch(request);
    const started = performance.now();
    const done = (result: Omit<DispatchResult, 'agent' | 'probe' | 'durationMs'>): DispatchResult => ({
      agent: record.name,
      probe: request.probe,
      durationMs: Math.round(performance.now() - started),
      ...result,
    });
    if (request.signal?.aborted)
      return done({ status: 'error', error: { code: 'SONDE_ERR_CANCELLED', message: 'the request was cancelled' }, truncated: false });
    const timeoutMs = Math.min(
      Math.max(Math.round(request.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS), 100),
      MAX_DISPATCH_WAIT_MS - DISPATCH_MARGIN_MS,
    );
    const waitMs = timeoutMs + DISPATCH_MARGIN_MS + NETWORK_MARGIN_MS;
    const callId = randomUUID();
    const body: z.infer<typeof RemoteProbeSchema> = {
      agentId: record.id,
      probe: request.probe,
      params: request.params,
      timeoutMs,
      callId,
    };
    let onAbort: (() => void) | undefined;
    const cancelled = new Promise<'cancelled'>((resolve) => {
      onAbort = () => resolve('cancelled');
      request.signal?.addEventListener('abort', onAbort, { once: true });
    });
    const outcome = await Promise.race([this.bus.request(holder, 'probe', body, waitMs), cancelled]);
    if (onAbort) request.signal?.removeEventListener('abort', onAbort);
    if (outcome === 'cancelled') {
      // The holder is told, so it stops waiting for the agent and frees the agent's slot there; fire and forget
      // (a holder that misses it frees the slot at the probe's own timeout, as before).
      void this.bus.request(holder, 'cancel', { callId } satisfies z.infer<typeof RemoteCancelSchema>, CANCEL_WAIT_MS);
      return done({ status: 'error', error: { code: 'SONDE_ERR_CANCELLED', message: 'the request was cancelled' }, truncated: false });
    }
    switch (outcome.kind) {
      case 'no-responders':
        return done({
          status: 'offline',
          error: {
            code: 'SONDE_ERR_AGENT_OFFLINE',
            message: `agent ${record.name} is offline: hub ${holder}, which held its connection, is gone (the agent reconnects to another hub)`,
          },
          truncated: false,
        });
      case 'timeout':
        return done({
          status: 'timeout',
          error: {
            code: 'SONDE_ERR_TIMEOUT',
            message: `agent ${record.name} (on hub ${holder}) did not answer ${request.probe} within ${waitMs} ms`,
          },
          truncated: false,
        });
      case 'refused':
        return done({
          status: 'error',
          error: { code: 'SONDE_ERR_CLUSTER', message: `hub ${holder} holding agent ${record.name}: ${outcome.message}` },
          truncated: false,
        });
      case 'ok': {
        const parsed = DispatchResultSchema.safeParse(outcome.body);
        if (!parsed.success) {
          const error = (outcome.body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
          return done({
            status: 'error',
            error: {
              code: typeof error?.code === 'string' ? error.code : 'SONDE_ERR_CLUSTER',
              message: `hub ${holder} holding agent ${record.name}: ${typeof error?.message === 'string' ? error.message : 'unreadable answer'}`,
            },
            truncated: false,
          });
        }
        const { agent: _agent, probe: _probe, durationMs: _duration, ...rest } = parsed.data;
        return done(rest);
      }
    }
  }
}

/**
 * The holder side: runs the probe through this hub's own dispatcher and makes the answer fit the
 * NATS payload limit with the same budget rules as the MCP layer (`fitJson`: the largest arrays and
 * strings shortened first), marking it truncated.
 */
export async function serveRemoteProbe(
  local: ProbeDispatcher,
  body: unknown,
  maxPayload: number,
  calls?: RemoteCalls,
  from?: string,
): Promise<unknown> {
  const parsed = RemoteProbeSchema.safeParse(body);
  if (!parsed.success) return { error: { code: 'SONDE_ERR_INVALID_PARAMS', message: 'malformed remote probe request' } };
  const { agentId, probe, params, timeoutMs, callId } = parsed.data;
  const signal = callId && calls && from ? calls.open(from, callId) : undefined;
  let result: DispatchResult;
  try {
    result = await local.dispatch({ agent: agentId, probe, params, timeoutMs, ...(signal ? { signal } : {}) });
  } finally {
    if (callId && from) calls?.close(from, callId);
  }
  const room = maxPayload - PAYLOAD_MARGIN_BYTES - 1024;
  if (Buffer.byteLength(JSON.stringify(result)) <= room) return result;
  const { result: value, ...rest } = result;
  const fitted = fitJson(value ?? null, Math.max(1024, room - Buffer.byteLength(JSON.stringify(rest)) - 256));
  return { ...rest, result: fitted.value, truncated: true };
}

/**
 * The holder's calls in flight for other hubs, by the caller's hub and call id: a `cancel` from that hub
 * (and only that hub: the envelope names the sender) aborts the local dispatch, which answers the agent's
 * pending request as cancelled and passes its slot on (gateway/concurrency.ts).
 */
export class RemoteCalls {
  private readonly calls = new Map<string, AbortController>();

  open(from: string, callId: string): AbortSignal {
    const controller = new AbortController();
    this.calls.set(`${from} ${callId}`, controller);
    return controller.signal;
  }

  close(from: string, callId: string): void {
    this.calls.delete(`${from} ${callId}`);
  }

  /** True when the call was still running here and is now cancelled. */
  cancel(from: string, body: unknown): boolean {
    const parsed = RemoteCancelSchema.safeParse(body);
    if (!parsed.success) return false;
    const controller = this.calls.get(`${from} ${parsed.data.callId}`);
    if (!controller) return false;
    this.calls.delete(`${from} ${parsed.data.callId}`);
    controller.abort();
    return true;
  }

  get size(): number {
    return this.calls.size;
  }
}
