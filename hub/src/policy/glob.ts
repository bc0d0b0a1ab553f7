/**
 * The one glob language of the hub: `*` (any run of characters) and `?` (one
 * character), everything else literal. Key policies and MCP agent filters both
 * use it. Matching is the two-pointer walk that remembers only the last `*`,
 * so it costs at most pattern length × name length steps (200 × 200 here) and
 * can never backtrack exponentially, whatever a caller sends. No regular
 * expression is built from a pattern.
 */

export const MAX_GLOB_CHARS = 200;
const GLOB_TEXT = /^[A-Za-z0-9._@:*?-]+$/;

/** Why `pattern` is not a valid glob, or undefined. Only what names contain plus `*` and `?`. */
export function validateGlob(pattern: string): string | undefined {
  if (pattern.length === 0 || pattern.length > MAX_GLOB_CHARS) return `a pattern is 1-${MAX_GLOB_CHARS} characters`;
  if (!GLOB_TEXT.test(pattern)) return `"${pattern}" may contain only letters, digits, . _ - @ : and the wildcards * and ?`;
  return undefined;
}

export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/** Whether `value` matches `pattern` (whole string). Linear in practice, O(|pattern|·|value|) at worst. */
export function globMatch(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    const c = pattern.charCodeAt(p);
    if (p < pattern.length && (c === 63 /* ? */ || c === value.charCodeAt(v))) {
      p++;
      v++;
    } else if (p < pattern.length && c === 42 /* * */) {
      star = p++;
      resume = v;
    } else if (star >= 0) {
      p = star + 1;
      v = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === 42) p++;
  return p === pattern.length;
}

/** Whether any pattern of a list matches. */
export function anyGlobMatches(patterns: readonly string[], value: string): boolean {
  for (const pattern of patterns) if (globMatch(pattern, value)) return true;
  return false;
}
