import { applyCustomPatterns, compileCustomPatterns } from './custom-patterns.js';
import { BUILT_IN_RULES, REDACTED, isSecretValue, type Tally } from './patterns.js';
import { isSensitiveName } from './sensitive-names.js';

export interface ScrubberOptions {
  /** Operator patterns from the agent config; validated here (SONDE_ERR_INVALID_SCRUB_PATTERN). */
  customPatterns?: string[];
  /** Longest string scanned; the rest is dropped with a marker. Default 4 Mi characters. */
  maxStringLength?: number;
  /** Characters scanned per `scrub` call before remaining strings are withheld. Default 32 Mi. */
  maxTotalChars?: number;
  /** Values visited per call before the rest is withheld. Default 200,000. */
  maxNodes?: number;
  /** Nesting depth walked. Default 64. */
  maxDepth?: number;
  /** Wall-clock budget per call; past it remaining strings are withheld (fail closed). Default 5 s. */
  timeBudgetMs?: number;
}

export interface ScrubResult {
  value: unknown;
  /** How many secrets (or withheld values) were replaced. */
  redactions: number;
}

export interface Scrubber {
  scrub(value: unknown): ScrubResult;
}

export const WITHHELD = '[REDACTED: scrub budget exceeded]';
const CIRCULAR = '[Circular]';
const TOO_DEEP = '[TRUNCATED: nested too deep]';

interface Walk extends Tally {
  nodes: number;
  chars: number;
  deadline: number;
  ancestors: Set<object>;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The agent's output scrubber (security model: "Output Scrubbing"). It runs on
 * every probe result before signing. `scrub` never throws and never mutates
 * its input: it returns a fresh JSON-safe copy (plain objects, arrays,
 * strings, finite numbers, booleans, null) with secrets replaced by
 * `[REDACTED]`. When a limit is hit it withholds rather than passes data on.
 */
export function createScrubber(options: ScrubberOptions = {}): Scrubber {
  const custom = compileCustomPatterns(options.customPatterns ?? []);
  const maxStringLength = options.maxStringLength ?? 4 * 1024 * 1024;
  const maxTotalChars = options.maxTotalChars ?? 32 * 1024 * 1024;
  const maxNodes = options.maxNodes ?? 200_000;
  const maxDepth = options.maxDepth ?? 64;
  const timeBudgetMs = options.timeBudgetMs ?? 5_000;

  function scrubText(input: string, walk: Walk): string {
    walk.chars += input.length;
    if (walk.chars > maxTotalChars || performance.now() > walk.deadline) {
      walk.count += 1;
      return WITHHELD;
    }
    let text =
      input.length > maxStringLength
        ? `${input.slice(0, maxStringLength)}…[TRUNCATED by scrubber: ${input.length - maxStringLength} more characters]`
        : input;
    text = text.replace(LONE_SURROGATE, '\uFFFD');
    for (const rule of BUILT_IN_RULES) text = rule(text, walk);
    const withCustom = applyCustomPatterns(text, custom, walk, walk.deadline);
    if (withCustom === undefined) {
      walk.count += 1;
      return WITHHELD;
    }
    return withCustom;
  }

  // Keys repeat across the rows of a result: remember how each short key scrubs and whether it is sensitive.
  const keyCache = new Map<string, { text: string; count: number; sensitive: boolean }>();
  function scrubKey(key: string, walk: Walk): { text: string; sensitive: boolean } {
    const cached = keyCache.get(key);
    if (cached) {
      walk.count += cached.count;
      return cached;
    }
    const before = walk.count;
    const entry = { text: scrubText(key, walk), count: 0, sensitive: isSensitiveName(key) };
    entry.count = walk.count - before;
    if (key.length <= 128 && entry.text !== WITHHELD) {
      if (keyCache.size >= 4096) keyCache.clear();
      keyCache.set(key, entry);
    }
    return entry;
  }

  /**
   * Everything under a sensitive name: strings, numbers that are not a setting (`pin: 4711`, but not
   * `password_min_length: 8`), and every leaf of an array or object (`credentials: { user, pass }`, a
   * `secret: { value }`). Keys stay readable; booleans and null carry no secret.
   */
  function redactWhole(value: unknown, walk: Walk, name: string, depth: number): unknown {
    if (typeof value === 'string') {
      if (value.length === 0 || value === REDACTED) return value;
      walk.count += 1;
      return REDACTED;
    }
    if (typeof value === 'number' || typeof value === 'bigint') {
      if (!isSecretValue(String(value), name)) return visit(value, walk, depth);
      walk.count += 1;
      return REDACTED;
    }
    if (value === null || typeof value !== 'object' || depth > maxDepth) return visit(value, walk, depth);
    if (walk.ancestors.has(value)) return CIRCULAR;
    walk.nodes += 1;
    if (walk.nodes > maxNodes) {
      walk.count += 1;
      return WITHHELD;
    }
    walk.ancestors.add(value);
    try {
      if (Array.isArray(value)) return value.map((item) => redactWhole(item, walk, name, depth + 1) ?? null);
      if (value instanceof Date || ArrayBuffer.isView(value) || value instanceof Map || value instanceof Set)
        return redactWhole(visit(value, walk, depth), walk, name, depth + 1);
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        const next = redactWhole(
          safely(() => (value as Record<string, unknown>)[key]),
          walk,
          name,
          depth + 1,
        );
        if (next !== undefined) out[scrubKey(key, walk).text] = next;
      }
      return out;
    } finally {
      walk.ancestors.delete(value);
    }
  }

  function visitEntries(entries: Array<[string, unknown]>, walk: Walk, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    // k8s/AWS style `{ name: "DB_PASSWORD", value: "…" }` pairs: the secret is named by a sibling.
    const pairName = entries.find(([k, v]) => /^(?:name|key)$/i.test(k) && typeof v === 'string');
    const pairNamesSecret = pairName !== undefined && isSensitiveName(pairName[1] as string);
    // A Kubernetes Secret: every value under data / stringData, whatever its key is called.
    const kubernetesSecret = entries.some(([k, v]) => k === 'kind' && v === 'Secret');
    for (const [rawKey, item] of entries) {
      const scrubbedKey = scrubKey(rawKey, walk);
      let key = scrubbedKey.text;
      for (let n = 2; Object.prototype.hasOwnProperty.call(out, key); n++) key = `${key.replace(/#\d+$/, '')}#${n}`;
      const sensitive =
        scrubbedKey.sensitive || (pairNamesSecret && /^value$/i.test(rawKey)) || (kubernetesSecret && /^(?:data|stringData)$/.test(rawKey));
      const next = sensitive
        ? safely(() => redactWhole(item, walk, pairNamesSecret ? (pairName[1] as string) : rawKey, depth + 1))
        : visit(item, walk, depth + 1);
      if (next !== undefined) out[key] = next;
    }
    return out;
  }

  function safely(read: () => unknown): unknown {
    try {
      return read();
    } catch {
      return '[unreadable]';
    }
  }

  function visit(value: unknown, walk: Walk, depth: number): unknown {
    walk.nodes += 1;
    if (walk.nodes > maxNodes) {
      walk.count += 1;
      return WITHHELD;
    }
    switch (typeof value) {
      case 'string':
        return scrubText(value, walk);
      case 'number':
        return Number.isFinite(value) ? value : null;
      case 'boolean':
        return value;
      case 'bigint':
        return value.toString();
      case 'undefined':
      case 'function':
      case 'symbol':
        return undefined;
    }
    if (value === null) return null;
    const object = value as object;
    if (depth > maxDepth) return TOO_DEEP;
    if (walk.ancestors.has(object)) return CIRCULAR;
    walk.ancestors.add(object);
    try {
      return visitObject(object, walk, depth);
    } catch {
      // A getter or proxy that throws: withhold that value, keep the rest.
      walk.count += 1;
      return WITHHELD;
    } finally {
      walk.ancestors.delete(object);
    }
  }

  /**
   * A flat list of names and values, as Redis `CONFIG GET *` and `HGETALL` answer
   * (`['requirepass', 'x', 'port', '6379']`): the item after a sensitive name is its value.
   */
  function visitArray(items: unknown[], walk: Walk, depth: number): unknown[] {
    const pairs = items.length % 2 === 0 && items.every((item) => typeof item === 'string');
    return items.map((item, index) => {
      const name = index % 2 === 1 && pairs ? items[index - 1] : undefined;
      if (name !== undefined && /^[A-Za-z_][\w.-]{0,100}$/.test(name) && isSensitiveName(name))
        return redactWhole(item, walk, name, depth + 1);
      return visit(item, walk, depth + 1) ?? null;
    });
  }

  function visitObject(object: object, walk: Walk, depth: number): unknown {
    if (Array.isArray(object)) return visitArray(object, walk, depth);
    if (object instanceof Date) return Number.isNaN(object.getTime()) ? null : object.toISOString();
    // Bytes could carry anything, and JSON would show them as numbers the patterns never see: decode and scrub.
    if (ArrayBuffer.isView(object))
      return scrubText(Buffer.from(object.buffer, object.byteOffset, object.byteLength).toString('utf8'), walk);
    if (object instanceof ArrayBuffer || object instanceof SharedArrayBuffer) return scrubText(Buffer.from(object).toString('utf8'), walk);
    if (object instanceof Map) {
      return visitEntries(
        [...object.entries()].map(([k, v]): [string, unknown] => [String(k), v]),
        walk,
        depth,
      );
    }
    if (object instanceof Set) return [...object].map((item) => visit(item, walk, depth + 1) ?? null);
    if (object instanceof Error)
      return visitEntries(
        [
          ['name', object.name],
          ['message', object.message],
        ],
        walk,
        depth,
      );
    if (object instanceof RegExp) return scrubText(String(object), walk);
    const entries: Array<[string, unknown]> = [];
    for (const key of Object.keys(object)) {
      entries.push([key, safely(() => (object as Record<string, unknown>)[key])]);
    }
    return visitEntries(entries, walk, depth);
  }

  return {
    scrub(value: unknown): ScrubResult {
      const walk: Walk = { count: 0, nodes: 0, chars: 0, deadline: performance.now() + timeBudgetMs, ancestors: new Set() };
      try {
        const scrubbed = visit(value, walk, 0);
        return { value: scrubbed === undefined ? null : scrubbed, redactions: walk.count };
      } catch {
        // Nothing above should throw; if something does, nothing leaves the host.
        return { value: WITHHELD, redactions: walk.count + 1 };
      }
    },
  };
}
