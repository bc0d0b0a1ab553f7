import { checkFileRead, GLOB_OPTIONS, PermissionsSchema } from '@sonde/pack-sdk';
import picomatch from 'picomatch';
import { describe, expect, it } from 'vitest';
import { globMatch, MAX_GLOB_CHARS, MAX_GLOB_STARS, MAX_MATCHED_NAME_CHARS, nameMatcher, starRuns, validateGlob } from './glob.js';

/**
 * The matcher the hub had before it used picomatch: `*` any run, `?` one character, a two-pointer walk. Kept here
 * as the reference the picomatch dialect must agree with on names.
 */
function twoPointer(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === value[v])) {
      p++;
      v++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = v;
    } else if (star >= 0) {
      p = star + 1;
      v = ++resume;
    } else return false;
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** What the pack permission guard decides for a file `/n/<name>` declared as `/n/<pattern>`. */
function guardAllows(pattern: string, name: string): boolean {
  const permissions = PermissionsSchema.parse({ files: [`/n/${pattern}`] });
  try {
    checkFileRead(permissions, `/n/${name}`);
    return true;
  } catch {
    return false;
  }
}

const PATTERNS = [
  'web-*',
  'web-?',
  'web-??',
  '*',
  '**',
  '?*',
  'system.*',
  '*.usage',
  '*.disk.*',
  'a*b*c',
  'web.1',
  'WEB-*',
  '*-db-*',
  'user@*',
  'host:80*',
  '.hidden*',
  '*a*a',
  '_*_',
  'exact-name',
];
const NAMES = [
  'web-1',
  'web-12',
  'web-',
  'db-1',
  'system.disk.usage',
  'system',
  'aXbYc',
  'aXbY',
  'abc',
  'webx1',
  'web.1',
  'eu-db-7',
  'user@example',
  'host:8080',
  '.hidden-agent',
  'x.y',
  'banana',
  '_x_',
  'exact-name',
  'a',
  'WEB-1',
];

describe('policy globs', () => {
  it('match * and ? over whole names, everything else literal', () => {
    expect(globMatch('web-*', 'web-1')).toBe(true);
    expect(globMatch('web-*', 'db-1')).toBe(false);
    expect(globMatch('system.*', 'system.disk.usage')).toBe(true);
    expect(globMatch('*.usage', 'system.disk.usage')).toBe(true);
    expect(globMatch('web-?', 'web-12')).toBe(false);
    expect(globMatch('web-??', 'web-12')).toBe(true);
    // `*` matches an empty run; an empty name is no name and matches nothing (agent and probe names are never empty).
    expect(globMatch('web-*', 'web-')).toBe(true);
    expect(globMatch('*', '')).toBe(false);
    expect(globMatch('a*b*c', 'aXbYc')).toBe(true);
    expect(globMatch('a*b*c', 'aXbY')).toBe(false);
    expect(globMatch('web.1', 'webx1')).toBe(false);
    expect(globMatch('WEB-*', 'web-1')).toBe(false);
    // A leading dot is an ordinary character (dot: true), as in the permission guard.
    expect(globMatch('*', '.hidden')).toBe(true);
  });

  it('accept only name characters, the two wildcards and a few runs of *', () => {
    expect(validateGlob('web-*')).toBeUndefined();
    expect(validateGlob('*-db-*')).toBeUndefined();
    for (const bad of ['', 'x'.repeat(201), 'web-{1,2}', '[a-z]*', '!(web)', '+(a|b)', 'a/b', 'a\\b', '*a*b*c', '*-db-*.x*'])
      expect(validateGlob(bad)).toBeTruthy();
    // A run of stars counts once: `**` is `*` for names.
    expect(starRuns('a**b***c')).toBe(2);
    expect(validateGlob('**a**b**')).toBeTruthy();
    expect(validateGlob('**a**b')).toBeUndefined();
  });

  it('agree with the permission guard, picomatch itself and the hub’s former matcher on a table of patterns and names', () => {
    const disagreements: string[] = [];
    for (const pattern of PATTERNS) {
      expect(validateGlob(pattern), pattern).toBeUndefined();
      for (const name of NAMES) {
        const hub = globMatch(pattern, name);
        const verdicts = {
          guard: guardAllows(pattern, name),
          picomatch: picomatch.isMatch(name, pattern, { dot: true }),
          former: twoPointer(pattern, name),
        };
        for (const [where, verdict] of Object.entries(verdicts))
          if (verdict !== hub) disagreements.push(`${pattern} ~ ${name}: hub ${hub}, ${where} ${verdict}`);
      }
    }
    expect(disagreements).toEqual([]);
    // The table is not trivial: both answers occur often.
    const matches = PATTERNS.flatMap((p) => NAMES.map((n) => globMatch(p, n))).filter(Boolean).length;
    expect(matches).toBeGreaterThan(40);
    expect(matches).toBeLessThan(PATTERNS.length * NAMES.length - 100);
  });

  it('stay bounded on the patterns that make backtracking matchers explode', () => {
    // `*a*a*a…*b` against a long run of `a`: exponential for a naive backtracking matcher, and picomatch compiles to
    // a regular expression V8 runs by backtracking. Such a pattern is refused, and never compiled or run.
    const pattern = `${'*a'.repeat(99)}*b`;
    const value = 'a'.repeat(200);
    expect(validateGlob(pattern)).toMatch(/more than 2 runs of \*/);
    expect(globMatch(pattern, value)).toBe(false);
    expect(globMatch(`${'*a'.repeat(99)}*`, value)).toBe(false);

    // What is allowed is bounded by counting, not by timing: the regular expression picomatch builds for the worst
    // allowed pattern holds one unbounded quantifier per run of stars, each a lazy `[^/]*?`, and nothing else
    // repeats; so a failing match tries at most C(n + k, k) placements of k quantifiers over n characters.
    const worst = `${'a*'.repeat(MAX_GLOB_STARS)}b`.padEnd(MAX_GLOB_CHARS, 'a');
    expect(validateGlob(worst)).toBeUndefined();
    const source = picomatch.makeRe(worst, GLOB_OPTIONS).source;
    const unbounded = source.match(/(?<!\\)[*+](?!\?)|\{\d+,\}/g) ?? [];
    const lazy = source.match(/\[\^\/\]\*\?/g) ?? [];
    expect({ greedy: unbounded.length, lazy: lazy.length }).toEqual({ greedy: 0, lazy: MAX_GLOB_STARS });
    const choose = (n: number, k: number): number => (k === 0 ? 1 : (choose(n - 1, k - 1) * n) / k);
    expect(choose(MAX_MATCHED_NAME_CHARS + MAX_GLOB_STARS, MAX_GLOB_STARS)).toBeLessThanOrEqual(MAX_GLOB_CHARS * MAX_MATCHED_NAME_CHARS);
    // And a longer hostile name is refused before the pattern runs.
    expect(nameMatcher('*a*b')('a'.repeat(MAX_MATCHED_NAME_CHARS + 1))).toBe(false);
    expect(nameMatcher('*a*b')(`${'a'.repeat(MAX_MATCHED_NAME_CHARS - 1)}b`)).toBe(true);
  });

  it('compiles a pattern once, however often it is matched', () => {
    expect(nameMatcher('web-*')).toBe(nameMatcher('web-*'));
  });
});
