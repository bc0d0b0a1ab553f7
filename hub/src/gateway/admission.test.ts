import { describe, expect, it } from 'vitest';
import { AdmissionGate, MAX_RETRY_AFTER_S, MIN_SPREAD_S } from './admission.js';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('AdmissionGate', () => {
  it('admits up to the limit, refuses beyond it with a Retry-After, and admits again once a place is released', () => {
    const c = clock();
    const gate = new AdmissionGate(2, c.now, () => 0);
    const a = gate.enter();
    const b = gate.enter();
    expect(a.admitted && b.admitted).toBe(true);
    const refused = gate.enter();
    expect(refused).toEqual({ admitted: false, retryAfterS: 1 });
    expect(gate.stats()).toEqual({ limit: 2, pending: 2, refused: 1 });
    if (!a.admitted) throw new Error('unreachable');
    a.ticket.release(true);
    a.ticket.release(false); // released once only: the registration and the later close of one socket
    expect(gate.stats().pending).toBe(1);
    expect(gate.enter().admitted).toBe(true);
    expect(gate.enter().admitted).toBe(false);
  });

  it('0 is no limit', () => {
    const gate = new AdmissionGate(0);
    for (let i = 0; i < 10_000; i++) expect(gate.enter().admitted).toBe(true);
    expect(gate.stats()).toEqual({ limit: 0, pending: 10_000, refused: 0 });
  });

  it('spreads Retry-After over the backlog: refusals in the window over the registrations completed in it', () => {
    const c = clock();
    const gate = new AdmissionGate(10, c.now, () => 0.999);
    const tickets = Array.from({ length: 10 }, () => gate.enter()).map((d) => (d.admitted ? d.ticket : undefined));
    // A fresh hub, nothing registered yet: a few refusals get the narrowest spread.
    expect(gate.enter()).toEqual({ admitted: false, retryAfterS: MIN_SPREAD_S });
    // 10 s later, 10 registrations done (1/s) and 30 refusals in the window: spread 30 s; the next refusal makes 31.
    c.advance(10_000);
    for (const ticket of tickets) ticket?.release(true);
    for (let i = 0; i < 10; i++) gate.enter();
    for (let i = 0; i < 30; i++) gate.enter();
    expect(gate.spreadS()).toBe(30);
    expect(gate.enter()).toEqual({ admitted: false, retryAfterS: 31 });
    // A huge backlog is capped at the agent's longest backoff.
    for (let i = 0; i < 1000; i++) gate.enter();
    expect(gate.spreadS()).toBe(MAX_RETRY_AFTER_S);
    // Once the window has passed with no refusals the spread is narrow again.
    c.advance(11_000);
    expect(gate.spreadS()).toBe(MIN_SPREAD_S);
  });
});
