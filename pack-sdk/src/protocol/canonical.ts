/**
 * Canonical JSON: object keys sorted by code unit, no whitespace, `undefined`
 * members dropped, non-finite numbers refused. Signatures are computed over
 * this form, so both sides produce identical bytes for the same value.
 */
export function canonicalJson(value: unknown): string {
  return serialize(value, new Set());
}

function serialize(value: unknown, seen: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON cannot encode a non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (seen.has(value)) throw new TypeError('canonical JSON cannot encode a cycle');
      seen.add(value);
      try {
        if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : serialize(item, seen))).join(',')}]`;
        const entries = Object.keys(value)
          .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
          .sort()
          .map((key) => `${JSON.stringify(key)}:${serialize((value as Record<string, unknown>)[key], seen)}`);
        return `{${entries.join(',')}}`;
      } finally {
        seen.delete(value);
      }
    }
    default:
      throw new TypeError(`canonical JSON cannot encode a ${typeof value}`);
  }
}
