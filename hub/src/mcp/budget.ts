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

interface Candidate {
  path: string;
  size: number;
  set: (value: unknown) => void;
  value: unknown[] | string;
}

const MAX_ROUNDS = 60;

function bytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? 'null');
}

/** Serialized size of `node`, recording the largest shrinkable array or string on the way. */
function measure(node: unknown, path: string, set: (v: unknown) => void, best: { c?: Candidate }): number {
  if (typeof node === 'string') {
    const size = bytes(node);
    if (node.length > 64 && (!best.c || size > best.c.size)) best.c = { path, size, set, value: node };
    return size;
  }
  if (Array.isArray(node)) {
    let size = 2 + Math.max(0, node.length - 1);
    node.forEach((item, i) => {
      size += measure(item, `${path}[${i}]`, (v) => (node[i] = v), best);
    });
    if (node.length > 1 && (!best.c || size > best.c.size)) best.c = { path, size, set, value: node };
    return size;
  }
  if (node && typeof node === 'object') {
    const obj = node as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
    let size = 2 + Math.max(0, keys.length - 1);
    for (const key of keys) {
      size += bytes(key) + 1 + measure(obj[key], `${path}.${key}`, (v) => (obj[key] = v), best);
    }
    return size;
  }
  return bytes(node);
}

/**
 * Shrinks `value` until its JSON fits in `maxBytes`: repeatedly shortens the
 * largest array (keeping its head, or its tail for logs) or string. Falls back
 * to a cut JSON string when the structure itself is too big.
 */
export function fitJson(value: unknown, maxBytes: number, keep: 'head' | 'tail' = 'head'): Fitted {
  if (bytes(value) <= maxBytes) return { value, truncated: false, cuts: [] };
  const root: { v: unknown } = { v: structuredClone(value) };
  const cuts = new Map<string, Cut>();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const best: { c?: Candidate } = {};
    const size = measure(root.v, '$', (v) => (root.v = v), best);
    if (size <= maxBytes) return { value: root.v, truncated: true, cuts: [...cuts.values()] };
    const c = best.c;
    if (!c) break;
    const excess = size - maxBytes;
    const previous = cuts.get(c.path);
    const originalLength = previous?.of ?? c.value.length;
    if (Array.isArray(c.value)) {
      const perItem = c.size / c.value.length;
      const drop = Math.min(c.value.length - 1, Math.ceil(excess / perItem) + 1);
      const kept = keep === 'tail' ? c.value.slice(drop) : c.value.slice(0, c.value.length - drop);
      c.set(kept);
      cuts.set(c.path, { path: c.path, kept: kept.length, of: originalLength, unit: 'items' });
    } else {
      // Characters, not bytes: multi-byte text shrinks at least as fast as asked.
      const keepChars = Math.max(16, c.value.length - excess - 16);
      const kept = keep === 'tail' ? c.value.slice(c.value.length - keepChars) : c.value.slice(0, keepChars);
      c.set(kept);
      cuts.set(c.path, { path: c.path, kept: kept.length, of: originalLength, unit: 'chars' });
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
