import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

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
});
