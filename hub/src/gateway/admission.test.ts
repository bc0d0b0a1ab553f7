import { describe, expect, it } from 'vitest';
import { AdmissionGate, MAX_RETRY_AFTER_S, MIN_PLACES, PLACES_PER_CALLER, REGISTER_FRAME_MS } from './admission.js';

/** A new caller on every knock (the share is tested on its own below). */
let callers = 0;
const knock = (gate: AdmissionGate): ReturnType<AdmissionGate['enter']> => gate.enter(`caller-${++callers}`);

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('AdmissionGate', () => {
  it('admits up to the limit, refuses beyond it with a Retry-After, and admits again once a place is released', () => {
    const c = clock();
    const gate = new AdmissionGate(2, c.now, () => 0);
    const a = knock(gate);
    const b = knock(gate);
    expect(a.admitted && b.admitted).toBe(true);
    const refused = knock(gate);
    expect(refused).toEqual({ admitted: false, reason: 'full', retryAfterS: 1 });
    expect(gate.stats()).toEqual({ limit: 2, pending: 2, refused: 1, callerRefused: 0 });
    if (!a.admitted) throw new Error('unreachable');
    a.ticket.release(true);
    a.ticket.release(false); // released once only: the registration and the later close of one socket
    expect(gate.stats().pending).toBe(1);
    expect(knock(gate).admitted).toBe(true);
    expect(knock(gate).admitted).toBe(false);
  });

  it('0 is no limit', () => {
    const gate = new AdmissionGate(0);
    for (let i = 0; i < 10_000; i++) expect(knock(gate).admitted).toBe(true);
    expect(gate.stats()).toEqual({ limit: 0, pending: 10_000, refused: 0, callerRefused: 0 });
  });

  it('asks the refused back one slot after another, spaced by the registration rate (places ÷ time a place is held)', () => {
    const c = clock();
    const gate = new AdmissionGate(10, c.now, () => 0);
    const tickets = Array.from({ length: 10 }, () => knock(gate)).map((d) => (d.admitted ? d.ticket : undefined));
    // A fresh hub, nothing registered yet: a place is taken to be held FIRST_HOLD_MS (10 places → 10 a second, slots
    // 1 / (10 · HEADROOM) = 80 ms apart). Retry-After is the slot's whole second (the agent adds up to 1 s), at least 1:
    // slots 0-1.92 s are asked back in 1 s, the 26th (2.0 s) in 2.
    const first = Array.from({ length: 26 }, () => knock(gate));
    expect(first.map((d) => (d.admitted ? 'in' : d.retryAfterS))).toEqual([...Array(25).fill(1), 2]);
    // The places are held 500 ms each: 20 registrations a second, slots 40 ms apart from where the queue ends.
    c.advance(500);
    for (const ticket of tickets) ticket?.release(true);
    expect(gate.ratePerSecond()).toBe(20);
    const queued = gate.queueS();
    for (let i = 0; i < 10; i++) knock(gate);
    for (let i = 0; i < 25; i++) knock(gate);
    expect(gate.queueS()).toBeCloseTo(queued + 25 * 0.04, 5);
    // The queue is FIFO: a later refusal never gets an earlier slot than one before it.
    const later = Array.from({ length: 100 }, () => knock(gate)).map((d) => (d.admitted ? 0 : d.retryAfterS));
    expect(later).toEqual([...later].sort((a, b) => a - b));
    expect(later.at(-1)).toBe(Math.floor(gate.queueS() - 0.04));
    expect(gate.stats()).toEqual({ limit: 10, pending: 10, refused: 151, callerRefused: 0 });
  });

  it('never asks for more than MAX_RETRY_AFTER_S: past the horizon the refused are spread over its second half', () => {
    const c = clock();
    const draws = [0, 0.999];
    const gate = new AdmissionGate(1, c.now, () => draws.shift() ?? 0.5);
    knock(gate);
    // One place held 1 s at first: slots 800 ms apart, so the horizon (60 s) is reached after 75 refusals.
    const answers = Array.from({ length: 80 }, () => knock(gate)).map((d) => (d.admitted ? 0 : d.retryAfterS));
    expect(answers.slice(0, 75)).toEqual([...answers.slice(0, 75)].sort((a, b) => a - b));
    expect(answers[74]).toBe(59);
    expect(answers.slice(75, 78)).toEqual([MAX_RETRY_AFTER_S / 2, MAX_RETRY_AFTER_S, 45]);
    for (const seconds of answers.slice(75)) {
      expect(seconds).toBeGreaterThanOrEqual(MAX_RETRY_AFTER_S / 2);
      expect(seconds).toBeLessThanOrEqual(MAX_RETRY_AFTER_S);
    }
    // The queue moves with the clock: once its slots have passed, the next refused is asked back in a second.
    c.advance(61_000);
    expect(gate.queueS()).toBe(0);
    expect(knock(gate)).toEqual({ admitted: false, reason: 'full', retryAfterS: 1 });
  });

  it('uses fewer places than the cap when the hub registers fewer than the cap in 5 s, and all of them when it keeps up', () => {
    const c = clock();
    const gate = new AdmissionGate(200, c.now, () => 0);
    const tickets = Array.from({ length: 200 }, () => knock(gate)).map((d) => (d.admitted ? d.ticket : undefined));
    expect(gate.inUse()).toBe(200);
    // A starved hub: nothing registered 6 s after the first socket came in: only MIN_PLACES until registrations show.
    c.advance(6_000);
    expect(gate.inUse()).toBe(MIN_PLACES);
    // 3 registrations a second over the next 10 s: 15 places, so a place is held about 5 s, not 200 ÷ 3 = 67 s.
    for (let second = 0; second < 10; second++) {
      c.advance(1_000);
      for (let i = 0; i < 3; i++) tickets[second * 3 + i]?.release(true);
    }
    expect(gate.inUse()).toBe(15);
    expect(knock(gate).admitted).toBe(false);
    // The remaining sockets go (their agents gave up): 15 newcomers are admitted, the 16th refused.
    for (const ticket of tickets.slice(30)) ticket?.release(false);
    const next = Array.from({ length: 16 }, () => knock(gate).admitted);
    expect(next).toEqual([...Array(15).fill(true), false]);
    // A hub that keeps up (100 registrations a second) uses the whole cap.
    const fast = new AdmissionGate(200, c.now, () => 0);
    for (let i = 0; i < 100; i++) {
      const d = knock(fast);
      if (d.admitted) d.ticket.release(true);
    }
    expect(fast.inUse()).toBe(200);
  });

  it('gives one caller at most PLACES_PER_CALLER places, refused 429-style without a slot in the queue, while others get in', () => {
    const c = clock();
    const gate = new AdmissionGate(200, c.now, () => 0);
    const hostile = Array.from({ length: 50 }, () => gate.enter('key:hostile'));
    const admitted = hostile.flatMap((d) => (d.admitted ? [d.ticket] : []));
    expect(admitted).toHaveLength(PLACES_PER_CALLER);
    expect(hostile.filter((d) => !d.admitted)).toEqual(
      Array(50 - PLACES_PER_CALLER).fill({ admitted: false, reason: 'caller', retryAfterS: REGISTER_FRAME_MS / 1000 }),
    );
    // No slot was handed out: the queue is for callers the hub has no place for.
    expect(gate.queueS()).toBe(0);
    expect(gate.enter('key:honest').admitted).toBe(true);
    expect(gate.stats()).toEqual({ limit: 200, pending: PLACES_PER_CALLER + 1, refused: 0, callerRefused: 50 - PLACES_PER_CALLER });
    // A place given back makes room for that caller again.
    admitted[0].release(false);
    expect(gate.enter('key:hostile').admitted).toBe(true);
    expect(gate.enter('key:hostile').admitted).toBe(false);
    // 0 is no limit: no share either.
    const open = new AdmissionGate(0);
    expect(Array.from({ length: 10 }, () => open.enter('key:one').admitted)).toEqual(Array(10).fill(true));
  });

  it('counts a place for the agent its credential names too, so certificate and key of one agent share one share', () => {
    const gate = new AdmissionGate(200);
    const viaCert = [gate.enter('cert:AA'), gate.enter('cert:AA')];
    for (const d of viaCert) expect(d.admitted && d.ticket.identify('agent-1')).toBeUndefined();
    const viaKey = gate.enter('key:agent-1');
    if (!viaKey.admitted) throw new Error('the key is another caller key: admitted before the lookup');
    expect(viaKey.ticket.identify('agent-1')).toEqual({ admitted: false, reason: 'caller', retryAfterS: REGISTER_FRAME_MS / 1000 });
    // Its socket is refused and closed: the place goes, and it was never counted for the agent.
    viaKey.ticket.release(false);
    expect(gate.stats()).toMatchObject({ pending: 2, callerRefused: 1 });
    // Another agent's key is its own share; identifying twice counts once.
    const other = gate.enter('key:agent-2');
    if (!other.admitted) throw new Error('unreachable');
    expect(other.ticket.identify('agent-2')).toBeUndefined();
    expect(other.ticket.identify('agent-2')).toBeUndefined();
    // Once one of agent-1's places is released, it may take another.
    if (viaCert[0].admitted) viaCert[0].ticket.release(true);
    const again = gate.enter('key:agent-1');
    expect(again.admitted && again.ticket.identify('agent-1')).toBeUndefined();
  });
});
