import { describe, expect, it } from 'vitest';
import { compareSemver } from './versions.js';

describe('compareSemver (downgrade check)', () => {
  it.each([
    ['1.0.0', '0.9.9', 1],
    ['0.1.1', '0.1.0', 1],
    ['0.10.0', '0.9.0', 1],
    ['1.0.0', '1.0.0-rc.1', 1],
    ['1.0.0-rc.2', '1.0.0-rc.10', -1],
    ['1.0.0-alpha', '1.0.0-1', 1],
    ['1.0.0+build.5', '1.0.0', 0],
    ['2.0.0', '2.0.0', 0],
  ])('%s vs %s → %i', (a, b, expected) => {
    expect(compareSemver(a, b)).toBe(expected);
    expect(compareSemver(b, a)).toBe(-expected || 0);
  });
});
