import { SondeError } from '../errors.js';
import { REDACTED, type Tally } from './patterns.js';

/**
 * Operator-supplied patterns (agent config `scrubber.customPatterns`). They are
 * untrusted regular expressions running on a backtracking engine, so they are
 * checked hard at config load and run on bounded input:
 *
 * - at load: must compile; at most 512 characters; no backreferences; no
 *   quantified group that itself contains an unbounded quantifier or an
 *   alternation (`(a+)+`, `(a|ab)*`: the exponential shapes); must not match
 *   the empty string; and must finish within 50 ms on adversarial inputs of
 *   the window size, which catches the polynomial ones (`\w*\w*\w*x`).
 * - at run time: each regex only ever sees one window of at most 2,048
 *   characters (windows overlap by 256 so a match up to 256 characters long is
 *   never missed at a window edge); the scrubber's overall deadline applies
 *   between windows.
 *
 * Syntax: a plain source (`internal-[a-f0-9]{32}`) or `/source/flags` with
 * flags from `imsu`. A named group `secret` limits the redaction to that
 * group: `/svc_token=(?<secret>\w+)/` keeps `svc_token=`.
 */

export const CUSTOM_PATTERN_MAX_LENGTH = 512;
export const CUSTOM_PATTERN_WINDOW = 2048;
export const CUSTOM_PATTERN_OVERLAP = 256;
const LOAD_CHECK_BUDGET_MS = 50;

export interface CustomPattern {
  source: string;
  regex: RegExp;
}

function invalid(index: number, pattern: string, reason: string): SondeError {
  const shown = pattern.length > 80 ? `${pattern.slice(0, 80)}…` : pattern;
  return new SondeError('SONDE_ERR_INVALID_SCRUB_PATTERN', `scrubber.customPatterns[${index}] ${JSON.stringify(shown)}: ${reason}`, {
    index,
  });
}

/** Finds the shapes that make a backtracking engine exponential. Returns a reason or undefined. */
export function unsafeShape(source: string): string | undefined {
  interface Group {
    unbounded: boolean;
    alternation: boolean;
  }
  const stack: Group[] = [{ unbounded: false, alternation: false }];
  let lastGroup: Group | undefined;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') {
      const next = source[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(next) || next === 'k')) return 'backreferences are not allowed';
      i += 1;
      lastGroup = undefined;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      lastGroup = undefined;
      continue;
    }
    if (ch === '(') {
      stack.push({ unbounded: false, alternation: false });
      lastGroup = undefined;
      continue;
    }
    if (ch === ')') {
      lastGroup = stack.length > 1 ? stack.pop() : undefined;
      continue;
    }
    if (ch === '|') {
      stack[stack.length - 1].alternation = true;
      lastGroup = undefined;
      continue;
    }
    const quantifier = ch === '*' || ch === '+' ? 'unbounded' : ch === '{' ? braceKind(source, i) : undefined;
    if (quantifier) {
      if (lastGroup && (lastGroup.unbounded || lastGroup.alternation) && quantifier === 'unbounded') {
        return 'a repeated group contains a repetition or alternation (catastrophic backtracking)';
      }
      if (quantifier === 'unbounded') for (const group of stack) group.unbounded = true;
    }
    if (ch !== '?') lastGroup = undefined;
  }
  return undefined;
}

/** `{n,}` and `{n,m}` with a large m repeat without a useful bound. */
function braceKind(source: string, at: number): 'unbounded' | 'bounded' | undefined {
  const found = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(at, at + 16));
  if (!found) return undefined;
  if (found[2] && (found[3] === '' || Number(found[3]) > 32)) return 'unbounded';
  return 'bounded';
}

function parse(pattern: string): { source: string; flags: string } {
  const literal = /^\/([\s\S]+)\/([a-z]*)$/.exec(pattern);
  if (!literal) return { source: pattern, flags: '' };
  return { source: literal[1], flags: literal[2] };
}

const ADVERSARIAL_SEEDS = ['a', '0', ' ', '-', '_', 'aA0', 'ab', '=', '/', '.'];

/**
 * A single exec cannot be interrupted, so the probe input grows in small steps
 * (by 4 characters up to 64, then by a quarter) and stops at the first run over
 * budget: one step can only multiply the cost by a bounded factor.
 */
function probeLengths(): number[] {
  const lengths: number[] = [];
  for (let n = 4; n <= 64; n += 4) lengths.push(n);
  for (let n = 80; n < CUSTOM_PATTERN_WINDOW; n = Math.ceil(n * 1.25)) lengths.push(n);
  lengths.push(CUSTOM_PATTERN_WINDOW - 1);
  return lengths;
}

function timeAll(regex: RegExp, input: string): number {
  const started = performance.now();
  regex.lastIndex = 0;
  for (let match = regex.exec(input); match; match = regex.exec(input)) {
    if (match[0].length === 0) regex.lastIndex += 1;
  }
  return performance.now() - started;
}

function tooSlow(regex: RegExp, source: string): boolean {
  const literals = source.replace(/\\./g, '').replace(/[^A-Za-z0-9 _=:./-]/g, '');
  const seeds = [...ADVERSARIAL_SEEDS, literals.slice(0, 16)].filter(Boolean);
  for (const length of probeLengths()) {
    for (const seed of seeds) {
      const body = seed.repeat(Math.ceil(length / seed.length)).slice(0, length);
      for (const input of [`${body}!`, `!${body}`]) {
        // A second try keeps a GC pause or a busy machine from refusing a good pattern.
        if (timeAll(regex, input) > LOAD_CHECK_BUDGET_MS && timeAll(regex, input) > LOAD_CHECK_BUDGET_MS) return true;
      }
    }
  }
  return false;
}

/** Validates and compiles operator patterns; throws SONDE_ERR_INVALID_SCRUB_PATTERN naming the bad one. */
export function compileCustomPatterns(patterns: readonly unknown[]): CustomPattern[] {
  if (!Array.isArray(patterns)) throw invalid(0, String(patterns), 'customPatterns must be an array of strings');
  return patterns.map((pattern, index) => {
    if (typeof pattern !== 'string' || pattern.length === 0) throw invalid(index, String(pattern), 'must be a non-empty string');
    if (pattern.length > CUSTOM_PATTERN_MAX_LENGTH) throw invalid(index, pattern, `longer than ${CUSTOM_PATTERN_MAX_LENGTH} characters`);
    const { source, flags } = parse(pattern);
    if (!/^[imsu]*$/.test(flags) || new Set(flags).size !== flags.length) {
      throw invalid(index, pattern, `flags "${flags}" are not allowed (use any of i, m, s, u)`);
    }
    let regex: RegExp;
    try {
      regex = new RegExp(source, `${flags}gd`);
    } catch (error) {
      throw invalid(index, pattern, `does not compile: ${error instanceof Error ? error.message : String(error)}`);
    }
    const unsafe = unsafeShape(source);
    if (unsafe) throw invalid(index, pattern, unsafe);
    regex.lastIndex = 0;
    if (regex.exec('')?.[0] === '') throw invalid(index, pattern, 'matches the empty string, so it would redact everything');
    if (tooSlow(regex, source))
      throw invalid(index, pattern, `takes over ${LOAD_CHECK_BUDGET_MS} ms on a ${CUSTOM_PATTERN_WINDOW}-character input`);
    return { source: pattern, regex };
  });
}

/**
 * Redacts every match of the custom patterns in `text`, one window at a time.
 * Returns undefined when the deadline passed, so the caller can fail closed.
 */
export function applyCustomPatterns(text: string, patterns: readonly CustomPattern[], tally: Tally, deadline: number): string | undefined {
  if (patterns.length === 0 || text.length === 0) return text;
  const ranges: Array<[number, number]> = [];
  const step = CUSTOM_PATTERN_WINDOW - CUSTOM_PATTERN_OVERLAP;
  for (let start = 0; start < text.length; start += step) {
    if (performance.now() > deadline) return undefined;
    const window = text.slice(start, start + CUSTOM_PATTERN_WINDOW);
    for (const { regex } of patterns) {
      regex.lastIndex = 0;
      for (let match = regex.exec(window); match; match = regex.exec(window)) {
        const span = match.indices?.groups?.secret ?? match.indices?.[0];
        if (match[0].length === 0) regex.lastIndex += 1;
        if (span && span[1] > span[0]) ranges.push([start + span[0], start + span[1]]);
      }
    }
    if (start + CUSTOM_PATTERN_WINDOW >= text.length) break;
  }
  if (ranges.length === 0) return text;
  ranges.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let out = '';
  let cursor = 0;
  let current: [number, number] | undefined;
  const flush = (): void => {
    if (!current) return;
    out += text.slice(cursor, current[0]) + REDACTED;
    cursor = current[1];
    tally.count += 1;
  };
  for (const range of ranges) {
    if (current && range[0] <= current[1]) current[1] = Math.max(current[1], range[1]);
    else {
      flush();
      current = [...range];
    }
  }
  flush();
  return out + text.slice(cursor);
}
