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

  it('after a refusal with Retry-After waits at least that long plus up to one initial interval, without resetting', () => {
    const backoff = new Backoff(1000, 60_000, () => 0.5);
    backoff.next(); // one failure before: the next ceiling is 2 s
    // own draw 0.5 · 2 s = 1 s; asked 3 s + 0.5 · 1 s jitter = 3.5 s: the hub's ask wins.
    expect(backoff.afterRefusal(3000)).toBe(3500);
    // The backoff advanced (ceiling 4 s now): its own draw 2 s is longer than a 1 s ask + 0.5 s.
    expect(backoff.afterRefusal(1000)).toBe(2000);
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
