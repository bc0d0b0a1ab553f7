import type { DispatchRequest, DispatchResult, Fleet, ProbeDispatcher } from '../services.js';

/**
 * Per-agent admission in front of the dispatcher: at most `maxInFlight` probe
 * requests run on one agent, up to `maxQueued` more wait in order, and a
 * caller beyond that gets `SONDE_ERR_AGENT_BUSY` at once. So 200 callers (one
 * runaway AI client, or many) cannot pile requests onto one agent, and an
 * agent that never answers holds at most its own slots, never another agent's.
 */
export interface AgentLimits {
  maxInFlight: number;
  maxQueued: number;
}

export const DEFAULT_AGENT_LIMITS: AgentLimits = { maxInFlight: 8, maxQueued: 32 };

interface Lane {
  running: number;
  waiting: (() => void)[];
}

export function limitPerAgent(
  dispatcher: ProbeDispatcher,
  fleet: Pick<Fleet, 'get' | 'identify'>,
  limits: AgentLimits = DEFAULT_AGENT_LIMITS,
): ProbeDispatcher & { inFlight(agent: string): number } {
  const lanes = new Map<string, Lane>();
  // Asked on every dispatch (10,000 times in a health_check over 10,000 agents): the fleet's cheap lookup when it has
  // one, else its view.
  const identify = (agent: string): { id: string; name: string } | undefined => (fleet.identify ? fleet.identify(agent) : fleet.get(agent));
  // Name and id reach the same lane; an unknown agent has a lane of its own name (the dispatcher answers at once).
  const laneKey = (agent: string): string => identify(agent)?.id ?? agent;
  const refuse = (request: DispatchRequest, code: string, message: string): DispatchResult => ({
    agent: identify(request.agent)?.name ?? request.agent,
    probe: request.probe,
    status: 'error',
    error: { code, message },
    durationMs: 0,
    truncated: false,
  });

  return {
    inFlight: (agent) => lanes.get(laneKey(agent))?.running ?? 0,
    async dispatch(request) {
      const key = laneKey(request.agent);
      let lane = lanes.get(key);
      if (!lane) {
        lane = { running: 0, waiting: [] };
        lanes.set(key, lane);
      }
      if (lane.running >= limits.maxInFlight) {
        if (lane.waiting.length >= limits.maxQueued) {
          return refuse(
            request,
            'SONDE_ERR_AGENT_BUSY',
            `agent ${request.agent} is busy: ${lane.running} probes running and ${lane.waiting.length} waiting (limits ${limits.maxInFlight} and ${limits.maxQueued}); try again shortly`,
          );
        }
        const admitted = await new Promise<boolean>((resolve) => {
          const go = (): void => {
            request.signal?.removeEventListener('abort', cancel);
            resolve(true);
          };
          const cancel = (): void => {
            const index = lane.waiting.indexOf(go);
            if (index >= 0) lane.waiting.splice(index, 1);
            resolve(false);
          };
          lane.waiting.push(go);
          request.signal?.addEventListener('abort', cancel, { once: true });
        });
        if (!admitted) return refuse(request, 'SONDE_ERR_CANCELLED', 'the request was cancelled while waiting for the agent');
      } else {
        lane.running += 1;
      }
      try {
        return await dispatcher.dispatch(request);
      } finally {
        // The slot passes straight to the next waiter (running stays the same), or is freed.
        const next = lane.waiting.shift();
        if (next) next();
        else {
          lane.running -= 1;
          if (lane.running === 0) lanes.delete(key);
        }
      }
    },
  };
}
