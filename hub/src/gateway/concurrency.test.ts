import { describe, expect, it } from 'vitest';
import type { DispatchRequest, DispatchResult } from '../services.js';
import { limitPerAgent } from './concurrency.js';

/** A dispatcher whose answers the test releases by hand, counting what reached it. */
function heldDispatcher() {
  const held: { request: DispatchRequest; release: () => void }[] = [];
  let peak = 0;
  let running = 0;
  return {
    held,
    peak: () => peak,
    dispatcher: {
      dispatch: (request: DispatchRequest) =>
        new Promise<DispatchResult>((resolve) => {
          running += 1;
          peak = Math.max(peak, running);
          held.push({
            request,
            release: () => {
              running -= 1;
              resolve({ agent: request.agent, probe: request.probe, status: 'ok', durationMs: 1, truncated: false });
            },
          });
        }),
    },
  };
}

const fleet = {
  get: (nameOrId: string) => (nameOrId === 'web-1' || nameOrId === 'id-1' ? ({ id: 'id-1', name: 'web-1' } as never) : undefined),
};

describe('per-agent admission', () => {
  it('200 concurrent callers: 8 run, 32 wait, 160 get SONDE_ERR_AGENT_BUSY at once; the waiting ones run as slots free', async () => {
    const inner = heldDispatcher();
    const limited = limitPerAgent(inner.dispatcher, fleet, { maxInFlight: 8, maxQueued: 32 });
    // Name and id share one lane.
    const calls = Array.from({ length: 200 }, (_, i) =>
      limited.dispatch({ agent: i % 2 ? 'web-1' : 'id-1', probe: 'system.x', params: {} }),
    );
    const settled = await Promise.race([
      Promise.all(calls.slice(40)),
      new Promise((resolve) => setTimeout(() => resolve('pending'), 1000)),
    ]);
    expect(settled).not.toBe('pending');
    const busy = (await Promise.all(calls.slice(40))).map((r) => r.error?.code);
    expect(busy).toEqual(Array(160).fill('SONDE_ERR_AGENT_BUSY'));
    expect(inner.held).toHaveLength(8);
    expect(limited.inFlight('web-1')).toBe(8);

    // Release one at a time: the next waiter takes the slot; never more than 8 at the agent.
    while (inner.held.length > 0) {
      inner.held.shift()!.release();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const admitted = await Promise.all(calls.slice(0, 40));
    expect(admitted.every((r) => r.status === 'ok')).toBe(true);
    expect(inner.peak()).toBe(8);
    expect(limited.inFlight('web-1')).toBe(0);
  });

  it('another agent is not held up by a busy one; a waiting caller that cancels leaves the queue', async () => {
    const inner = heldDispatcher();
    const limited = limitPerAgent(inner.dispatcher, fleet, { maxInFlight: 1, maxQueued: 1 });
    const first = limited.dispatch({ agent: 'web-1', probe: 'system.x', params: {} });
    const abort = new AbortController();
    const waiting = limited.dispatch({ agent: 'web-1', probe: 'system.x', params: {}, signal: abort.signal });
    const other = limited.dispatch({ agent: 'db-2', probe: 'system.x', params: {} });
    expect(inner.held.map((h) => h.request.agent)).toEqual(['web-1', 'db-2']);
    abort.abort();
    expect((await waiting).error?.code).toBe('SONDE_ERR_CANCELLED');
    for (const h of inner.held.splice(0)) h.release();
    expect((await first).status).toBe('ok');
    expect((await other).status).toBe('ok');
    expect(limited.inFlight('web-1')).toBe(0);
  });
});
