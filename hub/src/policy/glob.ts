import { globMatcher } from '@sonde/pack-sdk';

/**
 * The hub's patterns for names (key policies, MCP agent filters, embed tokens): Sonde's one glob dialect, picomatch
 * with the options the permission guard uses (`globMatcher` in @sonde/pack-sdk), restricted to what names need.
 * A name holds no `/`, so `*` is any run of characters and `?` one character; everything else is literal.
 *
 * What bounds the cost, whatever a client sends. picomatch compiles a pattern to a regular expression and V8 runs it
 * by backtracking: each run of `*` is one lazy quantifier, so a failing match of a pattern with `k` runs of stars
 * against a name of `n` characters tries at most C(n + k, k) placements of them (`*a*a*a…*b` against `aaaa…` is
 * the classic explosion). Hence, checked before anything is compiled:
 * - only name characters plus `*` and `?` (no braces, classes, extglobs or negation: nothing else is read as syntax);
 * - at most MAX_GLOB_CHARS characters and MAX_GLOB_STARS runs of `*` (`**` is one run, and compiled as `*`);
 * - names longer than MAX_MATCHED_NAME_CHARS never match (agent names are at most 64 characters, probe names far
 *   below the cap), so a request cannot bring a long value to a pattern.
 * With these, one match tries at most C(128 + 2, 2) = 8,385 placements: O(n²), what the two-pointer matcher this
 * replaced cost (pattern × name). Measured on this 2-core host, worst failing match: 2.6 µs for a 64-character name
 * with two runs of stars, 61 µs with three, 774 µs with four (and 4.8 ms with three on 256 characters) — hence two.
 * `glob.test.ts` checks the bound on what picomatch actually builds. Patterns are compiled once.
 */

export const MAX_GLOB_CHARS = 200;
/** Runs of `*` in one pattern (`web-*`, `*.disk.*` and `*-db-*` need one or two). */
export const MAX_GLOB_STARS = 2;
/** Longer values are no name and never match a pattern. */
export const MAX_MATCHED_NAME_CHARS = 128;
const GLOB_TEXT = /^[A-Za-z0-9._@:*?-]+$/;
const STAR_RUNS = /\*+/g;

/** How many runs of `*` a pattern has (`a**b*` has two). */
export function starRuns(pattern: string): number {
  return pattern.match(STAR_RUNS)?.length ?? 0;
}

/** Why `pattern` is not a valid glob, or undefined. Only what names contain plus `*` and `?`. */
export function validateGlob(pattern: string): string | undefined {
  if (pattern.length === 0 || pattern.length > MAX_GLOB_CHARS) return `a pattern is 1-${MAX_GLOB_CHARS} characters`;
  if (!GLOB_TEXT.test(pattern)) return `"${pattern}" may contain only letters, digits, . _ - @ : and the wildcards * and ?`;
  if (starRuns(pattern) > MAX_GLOB_STARS) return `"${pattern}" has more than ${MAX_GLOB_STARS} runs of *`;
  return undefined;
}

export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

const NEVER = (): boolean => false;
/** Names hold no slash, so `**` means what `*` means; compiled as `*`, it is one quantifier, not a globstar. */
const normalised = (pattern: string): string => pattern.replace(STAR_RUNS, '*');

/** Matchers by pattern: a policy's patterns are checked on every request, validated and compiled once. */
const matchers = new Map<string, (value: string) => boolean>();
const MAX_CACHED = 2_000;

/**
 * The compiled matcher of a hub pattern. A pattern that is not valid here (a policy stored by an older version with
 * more stars, say) matches nothing: refused, never compiled.
 */
export function nameMatcher(pattern: string): (value: string) => boolean {
  let matcher = matchers.get(pattern);
  if (!matcher) {
    if (validateGlob(pattern) !== undefined) matcher = NEVER;
    else {
      const test = globMatcher(normalised(pattern));
      matcher = (value) => value.length > 0 && value.length <= MAX_MATCHED_NAME_CHARS && test(value);
    }
    if (matchers.size >= MAX_CACHED) matchers.clear();
    matchers.set(pattern, matcher);
  }
  return matcher;
}

/** Whether `value` matches `pattern` (the whole name). */
export function globMatch(pattern: string, value: string): boolean {
  return nameMatcher(pattern)(value);
}

/** Whether any pattern of a list matches. */
export function anyGlobMatches(patterns: readonly string[], value: string): boolean {
  for (const pattern of patterns) if (globMatch(pattern, value)) return true;
  return false;
}
