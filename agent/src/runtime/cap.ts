/**
 * Keeps a result under a byte budget once serialized. Long strings are cut and
 * long arrays shortened, each with a visible marker, halving the limits until
 * the whole fits; a result that still does not fit is replaced by a preview.
 * The caller sets `truncated: true` whenever anything was cut.
 */
export const TRUNCATION_MARKER = '[TRUNCATED by sonde: output exceeded the size limit]';

export interface CapOutcome {
  value: unknown;
  truncated: boolean;
  originalBytes: number;
}

function byteLength(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
}

function shrink(value: unknown, maxString: number, maxItems: number): unknown {
  if (typeof value === 'string') {
    if (Buffer.byteLength(value) <= maxString) return value;
    const cut = Buffer.from(value, 'utf8')
      .subarray(0, maxString)
      .toString('utf8')
      .replace(/\uFFFD+$/, '');
    return `${cut}…${TRUNCATION_MARKER}`;
  }
  if (Array.isArray(value)) {
    const kept = value.slice(0, maxItems).map((item) => shrink(item, maxString, maxItems));
    if (value.length > maxItems) kept.push(`${TRUNCATION_MARKER} ${value.length - maxItems} more items`);
    return kept;
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, shrink(v, maxString, maxItems)]));
  }
  return value;
}

export function capResult(value: unknown, budgetBytes: number): CapOutcome {
  const originalBytes = byteLength(value);
  if (originalBytes <= budgetBytes) return { value, truncated: false, originalBytes };
  let maxString = Math.max(256, Math.floor(budgetBytes / 2));
  let maxItems = 10_000;
  for (let round = 0; round < 24; round++) {
    const candidate = shrink(value, maxString, maxItems);
    if (byteLength(candidate) <= budgetBytes) return { value: candidate, truncated: true, originalBytes };
    maxString = Math.max(16, Math.floor(maxString / 2));
    maxItems = Math.max(1, Math.floor(maxItems / 2));
  }
  const preview = JSON.stringify(value).slice(0, Math.max(0, Math.floor(budgetBytes / 2) - 200));
  return { value: { truncated: TRUNCATION_MARKER, originalBytes, preview }, truncated: true, originalBytes };
}
