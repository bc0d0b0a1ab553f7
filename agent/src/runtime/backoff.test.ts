import { describe, expect, it } from 'vitest';
import { Backoff, retryAfterMs } from './backoff.js';

describe('Backoff', () => {
  it('doubles its ceiling from 1 s up to 60 s and stays there', () => {
    const backoff = new Backoff(1000, 60_000, () => 1);
    const delays = Array.from({ length: 9 }, () => backoff.next());
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it('uses full jitter: a uniform draw in [0, ceiling]', () => {
    const draws = [0, 0.5, 0.25];
    const backoff = new Backoff(1000, 60_000, () => draws.shift()!);
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([0, 1000, 1000]);
  });

  it('starts over after a successful registration', () => {
    const backoff = new Backoff(1000, 60_000, () => 1);
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(1000);
  });

  it('after a refusal with Retry-After waits what the hub asked plus up to one initial interval, whatever its own draw', () => {
    const backoff = new Backoff(1000, 60_000, () => 0.5);
    for (let i = 0; i < 5; i++) backoff.next(); // a hub restart's failures: the next ceiling is 32 s
    // Asked 3 s + 0.5 · 1 s jitter = 3.5 s: the hub's hint, not the backoff's 16 s draw.
    expect(backoff.afterRefusal(3000)).toBe(3500);
    // A refusal neither advances nor resets the backoff: the next plain failure draws from the same 32 s ceiling.
    expect(backoff.ceiling()).toBe(32_000);
    // Never sooner than one initial interval, whatever the hub asks.
    expect(backoff.afterRefusal(0)).toBe(1500);
  });

  it('never waits longer than its longest backoff, whatever the hub asks', () => {
    const backoff = new Backoff(1000, 60_000, () => 1);
    expect(backoff.afterRefusal(3_600_000)).toBe(60_000);
  });
});

describe('retryAfterMs', () => {
  it('reads delay-seconds and HTTP dates, and nothing else', () => {
    expect(retryAfterMs('7')).toBe(7000);
    expect(retryAfterMs(['2', '9'])).toBe(2000);
    const now = Date.parse('2026-12-07T12:00:00Z');
    expect(retryAfterMs('Mon, 07 Dec 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Mon, 07 Dec 2026 11:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('')).toBeUndefined();
    expect(retryAfterMs('-1')).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});
