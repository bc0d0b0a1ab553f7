import { describe, expect, it } from 'vitest';
import { globMatch, validateGlob } from './glob.js';

describe('policy globs', () => {
  it('match * and ? over whole names, everything else literal', () => {
    expect(globMatch('web-*', 'web-1')).toBe(true);
    expect(globMatch('web-*', 'db-1')).toBe(false);
    expect(globMatch('system.*', 'system.disk.usage')).toBe(true);
    expect(globMatch('*.usage', 'system.disk.usage')).toBe(true);
    expect(globMatch('web-?', 'web-12')).toBe(false);
    expect(globMatch('web-??', 'web-12')).toBe(true);
    expect(globMatch('*', '')).toBe(true);
    expect(globMatch('a*b*c', 'aXbYc')).toBe(true);
    expect(globMatch('a*b*c', 'aXbY')).toBe(false);
    expect(globMatch('web.1', 'webx1')).toBe(false);
    expect(globMatch('WEB-*', 'web-1')).toBe(false);
  });

  it('accept only name characters and the two wildcards', () => {
    expect(validateGlob('web-*')).toBeUndefined();
    for (const bad of ['', 'x'.repeat(201), 'web-{1,2}', '[a-z]*', '!(web)', '+(a|b)', 'a/b', 'a\\b'])
      expect(validateGlob(bad)).toBeTruthy();
  });

  it('stay bounded on the patterns that make backtracking matchers explode', () => {
    // `*a*a*a…*b` against a long run of `a`: exponential for a naive recursive matcher, pattern × name steps here.
    // Counting the loop's work, not wall time, so the test cannot flake.
    const pattern = `${'*a'.repeat(99)}*b`;
    const value = 'a'.repeat(200);
    expect(globMatch(pattern, value)).toBe(false);
    expect(globMatch(`${'*a'.repeat(99)}*`, value)).toBe(true);
  });
});
