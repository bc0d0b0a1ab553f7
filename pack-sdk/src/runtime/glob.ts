import picomatch from 'picomatch';

/**
 * The one glob dialect of Sonde: picomatch with these options, wherever a pattern is matched (a pack's declared
 * file and path globs in the permission guard, the agent's `packs doctor`, the hub's key policies, MCP agent
 * filters and embed tokens, the trust store's pack patterns). `dot: true`: a `*` also matches a name or path
 * segment that starts with a dot; `strictSlashes`: a trailing slash is not optional. Callers that take patterns
 * from clients validate them first (the hub allows only name characters plus `*` and `?`, see
 * hub/src/policy/glob.ts), so braces, extglobs and negation never reach the compiler from there.
 */
export const GLOB_OPTIONS: Readonly<picomatch.PicomatchOptions> = Object.freeze({ dot: true, strictSlashes: true });

export type GlobMatcher = (value: string) => boolean;

/** Compiled matchers by options and pattern: a pattern is compiled once, not on every request it is matched on. */
const compiled = new Map<string, GlobMatcher>();
/** Patterns are few (policies, manifests); past this many the cache starts again rather than grow without end. */
const MAX_COMPILED = 2_000;

/**
 * The compiled matcher of `pattern` (whole value, picomatch semantics with GLOB_OPTIONS plus `extra`). Cached:
 * matching the same pattern again costs only the regular expression test.
 */
export function globMatcher(pattern: string, extra?: Readonly<picomatch.PicomatchOptions>): GlobMatcher {
  const cacheKey = extra ? `${JSON.stringify(extra)}\u0000${pattern}` : pattern;
  let matcher = compiled.get(cacheKey);
  if (!matcher) {
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    const test = picomatch(pattern, extra ? { ...GLOB_OPTIONS, ...extra } : GLOB_OPTIONS);
    matcher = (value: string): boolean => test(value);
    compiled.set(cacheKey, matcher);
  }
  return matcher;
}

/** Whether `value` matches any of `globs` (GLOB_OPTIONS, compiled once each). */
export function anyGlobMatch(globs: readonly string[], value: string): boolean {
  for (const glob of globs) if (globMatcher(glob)(value)) return true;
  return false;
}
