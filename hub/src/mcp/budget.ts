/**
 * Result budgets. The tightest real client truncates tool results at 64 KiB
 * and Claude Code refuses results over 25,000 tokens, so the hub cuts results
 * itself, says so (`truncated: true`) and reports what it cut, instead of
 * letting a client silently drop the end.
 */
export const DEFAULT_RESULT_BUDGET_BYTES = 64 * 1024;

export interface Cut {
  /** JSON path of the shortened array or string, `$` for the root. */
  path: string;
  kept: number;
  of: number;
  unit: 'items' | 'chars';
}

export interface Fitted {
  value: unknown;
  truncated: boolean;
  cuts: Cut[];
}

/** Where a container sits in the tree being cut: the chain back to the root, to copy it before a cut writes into it. */
interface Link {
  readonly node: object;
  readonly parent: Link | undefined;
  readonly key: string | number;
}

interface Candidate {
  /** The container holding the candidate, and the candidate's key in it. */
  parent: Link;
  key: string | number;
  size: number;
  value: unknown[] | string;
}

const MAX_ROUNDS = 60;

/** Printable ASCII without `"` and `\\`: JSON writes such a string as it is, between two quotes. */
const PLAIN_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** Bytes of `value` as JSON; the common leaves (plain strings, numbers, booleans, null) without serialising them. */
export function jsonBytes(value: unknown): number {
  if (typeof value === 'string') return PLAIN_STRING.test(value) ? value.length + 2 : Buffer.byteLength(JSON.stringify(value));
  // A finite number is written as String() writes it; NaN and the infinities as null.
  if (typeof value === 'number') return Number.isFinite(value) ? String(value).length : 4;
  if (typeof value === 'boolean') return value ? 4 : 5;
  if (value === null) return 4;
  return Buffer.byteLength(JSON.stringify(value) ?? 'null');
}

/** Serialized size of `node` (key `key` of `parent`), recording the largest shrinkable array or string on the way. */
function measure(node: unknown, parent: Link, key: string | number, best: { c?: Candidate }): number {
  if (typeof node === 'string') {
    const size = jsonBytes(node);
    if (node.length > 64 && (!best.c || size > best.c.size)) best.c = { parent, key, size, value: node };
    return size;
  }
  if (Array.isArray(node)) {
    const link: Link = { node, parent, key };
    let size = 2 + Math.max(0, node.length - 1);
    for (let i = 0; i < node.length; i++) size += measure(node[i], link, i, best);
    if (node.length > 1 && (!best.c || size > best.c.size)) best.c = { parent, key, size, value: node };
    return size;
  }
  if (node && typeof node === 'object') {
    const link: Link = { node, parent, key };
    const obj = node as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
    let size = 2 + Math.max(0, keys.length - 1);
    for (const name of keys) size += jsonBytes(name) + 1 + measure(obj[name], link, name, best);
    return size;
  }
  return jsonBytes(node);
}

/** JSON path of key `key` of `parent`, `$` for the root. */
function pathOf(parent: Link, key: string | number): string {
  let path = '';
  for (let link = parent, k = key; link.parent; k = link.key, link = link.parent)
    path = `${typeof k === 'number' ? `[${k}]` : `.${k}`}${path}`;
  return `$${path}`;
}

/**
 * The container at `link`, writable: the caller's value is never changed, so a container on the way to a cut is
 * copied (shallow) the first time a cut goes through it, and the copy put in its parent, itself made writable.
 */
function writable(link: Link, owned: WeakSet<object>): Record<string | number, unknown> {
  if (owned.has(link.node)) return link.node as Record<string | number, unknown>;
  const copy = Array.isArray(link.node) ? link.node.slice() : { ...link.node };
  owned.add(copy);
  writable(link.parent!, owned)[link.key] = copy;
  return copy;
}

/**
 * Shrinks `value` until its JSON fits in `maxBytes`: repeatedly shortens the
 * largest array (keeping its head, or its tail for logs) or string. Falls back
 * to a cut JSON string when the structure itself is too big. `value` is left as
 * it was; the result shares the parts no cut went through with it (they are
 * not copied: a health_check over 10,000 agents spent most of its cut copying
 * the whole answer before keeping 400 of them).
 */
export function fitJson(value: unknown, maxBytes: number, keep: 'head' | 'tail' = 'head'): Fitted {
  if (jsonBytes(value) <= maxBytes) return { value, truncated: false, cuts: [] };
  const root: { v: unknown } = { v: value };
  const top: Link = { node: root, parent: undefined, key: 'v' };
  const owned = new WeakSet<object>([root]);
  const cuts = new Map<string, Cut>();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const best: { c?: Candidate } = {};
    const size = measure(root.v, top, 'v', best);
    if (size <= maxBytes) return { value: root.v, truncated: true, cuts: [...cuts.values()] };
    const c = best.c;
    if (!c) break;
    const path = pathOf(c.parent, c.key);
    const excess = size - maxBytes;
    const previous = cuts.get(path);
    const originalLength = previous?.of ?? c.value.length;
    if (Array.isArray(c.value)) {
      const perItem = c.size / c.value.length;
      const drop = Math.min(c.value.length - 1, Math.ceil(excess / perItem) + 1);
      const kept = keep === 'tail' ? c.value.slice(drop) : c.value.slice(0, c.value.length - drop);
      writable(c.parent, owned)[c.key] = kept;
      cuts.set(path, { path, kept: kept.length, of: originalLength, unit: 'items' });
    } else {
      // Characters, not bytes: multi-byte text shrinks at least as fast as asked.
      const keepChars = Math.max(16, c.value.length - excess - 16);
      const kept = keep === 'tail' ? c.value.slice(c.value.length - keepChars) : c.value.slice(0, keepChars);
      writable(c.parent, owned)[c.key] = kept;
      cuts.set(path, { path, kept: kept.length, of: originalLength, unit: 'chars' });
    }
  }
  const text = JSON.stringify(value) ?? 'null';
  const prefix = Buffer.from(text)
    .subarray(0, Math.max(0, maxBytes - 64))
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return { value: prefix, truncated: true, cuts: [{ path: '$', kept: prefix.length, of: text.length, unit: 'chars' }] };
}

/** One sentence on what was cut and how to get the rest. */
export function describeCuts(cuts: Cut[], pagingParams: string[]): string {
  const what = cuts
    .slice(0, 4)
    .map((c) => `${c.path}: ${c.kept} of ${c.of} ${c.unit}`)
    .join('; ');
  const how = pagingParams.length
    ? `call again with ${pagingParams.join('/')} to get the rest`
    : 'narrow the request (fewer agents, more specific params) to get the rest';
  return `result cut to fit the size budget (${what}); ${how}`;
}
