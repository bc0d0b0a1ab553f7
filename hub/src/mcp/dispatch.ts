import { setMaxListeners } from 'node:events';
import type { ProbeManifest } from '@sonde/pack-sdk';
import type { AgentView, DispatchResult } from '../services.js';
import { agentServes } from './catalog.js';
import type { CallContext } from './context.js';
import { ToolError } from './errors.js';

/** Every tool call answers within 45 s; the hub stops waiting a little earlier to leave time to answer. */
export const CALL_DEADLINE_MS = 40_000;

/**
 * Resolves an agent the caller named and asks the policy decision point first,
 * so a denied agent is reported the same whether it exists or not.
 */
export function resolveAgent(ctx: CallContext, agentName: string): AgentView {
  const view = ctx.services.fleet.get(agentName);
  const decision = ctx.services.pdp.checkAgent(ctx.principal, view?.name ?? agentName);
  if (!decision.allowed)
    throw new ToolError('SONDE_ERR_POLICY_DENIED', `agent ${agentName} is not allowed for this API key: ${decision.reason}`, 'denied');
  if (!view) throw new ToolError('SONDE_ERR_UNKNOWN_AGENT', `unknown agent ${agentName}; list_agents shows the agents this key can use`);
  return view;
}

export function checkProbeAllowed(ctx: CallContext, agent: AgentView, probe: string): void {
  const decision = ctx.services.pdp.checkProbe(ctx.principal, agent.name, probe);
  if (!decision.allowed) {
    throw new ToolError(
      'SONDE_ERR_POLICY_DENIED',
      `probe ${probe} on agent ${agent.name} is not allowed for this API key: ${decision.reason}`,
      'denied',
    );
  }
}

export function requireProbe(agent: AgentView, probe: string): ProbeManifest {
  const manifest = agentServes(agent, probe);
  if (!manifest) {
    throw new ToolError(
      'SONDE_ERR_PROBE_UNAVAILABLE',
      `probe ${probe} is not served by an active pack on agent ${agent.name}; list_capabilities shows what each agent serves`,
    );
  }
  return manifest;
}

export function isOffline(agent: AgentView): boolean {
  return !agent.connected || agent.status === 'offline';
}

export function offlineMessage(agent: AgentView): string {
  return `agent ${agent.name} is offline, last seen ${agent.lastSeenAt ?? 'never'}`;
}

export function requireOnline(agent: AgentView): void {
  if (isOffline(agent)) throw new ToolError('SONDE_ERR_AGENT_OFFLINE', offlineMessage(agent), 'offline');
}

function offlineResult(agent: AgentView, probe: string): DispatchResult {
  return {
    agent: agent.name,
    probe,
    status: 'offline',
    error: { code: 'SONDE_ERR_AGENT_OFFLINE', message: offlineMessage(agent) },
    durationMs: 0,
    truncated: false,
  };
}

function cancelledResult(agent: AgentView, probe: string): DispatchResult {
  return {
    agent: agent.name,
    probe,
    status: 'error',
    error: { code: 'SONDE_ERR_CANCELLED', message: 'the request was cancelled' },
    durationMs: 0,
    truncated: false,
  };
}

/** No answer within the `remaining` ms the probe had from `started`. */
function timeoutResult(agent: AgentView, probe: string, remaining: number, started: number): DispatchResult {
  return {
    agent: agent.name,
    probe,
    status: 'timeout',
    error: { code: 'SONDE_ERR_TIMEOUT', message: `no answer from agent ${agent.name} within ${remaining} ms` },
    durationMs: Date.now() - started,
    truncated: false,
  };
}

/** One probe request through the dispatcher, within `remaining` ms; a dispatcher failure is an error result, never a throw. */
function sendProbe(
  ctx: CallContext,
  { agent, probe, manifest, params }: FanOutJob,
  remaining: number,
  signal: AbortSignal,
  started: number,
): Promise<DispatchResult> {
  return ctx.services.dispatcher
    .dispatch({ agent: agent.name, probe, params, timeoutMs: Math.max(100, Math.min(manifest.timeoutMs, remaining)), signal })
    .catch((error: unknown): DispatchResult => ({
      agent: agent.name,
      probe,
      status: 'error',
      error: { code: 'SONDE_ERR_PROBE_FAILED', message: error instanceof Error ? error.message : String(error) },
      durationMs: Date.now() - started,
      truncated: false,
    }));
}

/**
 * Runs one probe the caller may run (policy already checked) and never waits
 * past `deadlineAt`, even if the dispatcher ignores its abort signal.
 */
export async function dispatchWithin(
  ctx: CallContext,
  agent: AgentView,
  probe: string,
  manifest: ProbeManifest,
  params: Record<string, unknown>,
  deadlineAt: number,
): Promise<DispatchResult> {
  const started = Date.now();
  const remaining = deadlineAt - started;
  if (remaining <= 0) return { agent: agent.name, probe, status: 'timeout', durationMs: 0, truncated: false };
  if (isOffline(agent)) {
    return offlineResult(agent, probe);
  }
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  if (ctx.signal?.aborted) return cancelledResult(agent, probe);
  // The caller's cancellation (or its connection closing) reaches the dispatcher, and through it the agent's hub.
  const onCancel = (): void => controller.abort();
  ctx.signal?.addEventListener('abort', onCancel, { once: true });
  const deadline = new Promise<DispatchResult>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve(timeoutResult(agent, probe, remaining, started));
    }, remaining);
  });
  try {
    const dispatched = sendProbe(ctx, { agent, probe, manifest, params }, remaining, controller.signal, started);
    return await Promise.race([dispatched, deadline]);
  } finally {
    clearTimeout(timer);
    ctx.signal?.removeEventListener('abort', onCancel);
  }
}

export interface FanOutJob {
  agent: AgentView;
  probe: string;
  manifest: ProbeManifest;
  params: Record<string, unknown>;
}

/**
 * A fan-out's probes (health_check): what `dispatchWithin` answers for each job, with at most `limit` in flight, but
 * one abort controller, one deadline timer and one listener on the caller's signal for the whole fan-out instead of
 * one of each per probe (a fan-out over 10,000 agents made 10,000 of each). Never waits past `deadlineAt`, even if
 * the dispatcher ignores the abort; a job not started by then is a timeout.
 */
export async function dispatchAll(
  ctx: CallContext,
  jobs: readonly FanOutJob[],
  limit: number,
  deadlineAt: number,
): Promise<DispatchResult[]> {
  const controller = new AbortController();
  // Every request in flight listens for the abort (connection.ts): `limit` of them at a time is expected, not a leak.
  setMaxListeners(limit + 8, controller.signal);
  const onCancel = (): void => controller.abort();
  ctx.signal?.addEventListener('abort', onCancel, { once: true });
  let expired = false;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(
      () => {
        expired = true;
        controller.abort();
        resolve(undefined);
      },
      Math.max(0, deadlineAt - Date.now()),
    );
  });
  const one = async ({ agent, probe, manifest, params }: FanOutJob): Promise<DispatchResult> => {
    const started = Date.now();
    const remaining = deadlineAt - started;
    if (remaining <= 0 || expired) return { agent: agent.name, probe, status: 'timeout', durationMs: 0, truncated: false };
    if (isOffline(agent)) {
      return offlineResult(agent, probe);
    }
    if (controller.signal.aborted) return cancelledResult(agent, probe);
    const dispatched = sendProbe(ctx, { agent, probe, manifest, params }, remaining, controller.signal, started);
    const result = await Promise.race([dispatched, deadline]);
    // The deadline aborted what was in flight: that is a timeout, as dispatchWithin reports it, not a cancellation.
    return result === undefined || (expired && result.error?.code === 'SONDE_ERR_CANCELLED')
      ? timeoutResult(agent, probe, remaining, started)
      : result;
  };
  try {
    return await mapLimit(jobs, limit, one);
  } finally {
    clearTimeout(timer);
    ctx.signal?.removeEventListener('abort', onCancel);
  }
}

/** Runs `tasks` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]);
    }
  });
  await Promise.all(workers);
  return results;
}
