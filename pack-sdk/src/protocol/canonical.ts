/**
 * Canonical JSON: object keys sorted by code unit, no whitespace, `undefined`
 * members dropped, non-finite numbers refused. Signatures are computed over
 * this form, so both sides produce identical bytes for the same value.
 *
 * Every frame is canonicalised twice (sender and receiver), so this is written
 * for allocation: one output string grown by appending (V8 joins the pieces
 * once, when the caller encodes it), keys sorted only when they are not already
 * in order (a frame built by `canonicalJson` and parsed again always is), and
 * strings that need no escaping copied as they are. The output is the same,
 * byte for byte, as the straightforward map/sort/join form it replaced
 * (`canonical.test.ts` checks that on generated values).
 */
export function canonicalJson(value: unknown): string {
  return new CanonicalWriter().write(value);
}

/** A character JSON.stringify escapes: quote, backslash, control characters, and surrogates (lone ones become `\udXXX`). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON must escape
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Longest string tested with NEEDS_ESCAPE; longer ones go to JSON.stringify, which scans as fast and copies once. */
const SCAN_LIMIT = 256;

function quote(text: string): string {
  return text.length <= SCAN_LIMIT && !NEEDS_ESCAPE.test(text) ? `"${text}"` : JSON.stringify(text);
}

/** Whether `keys` is in code-unit order already (Array.prototype.sort's default order), so sorting can be skipped. */
function sorted(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1] > keys[i]) return false;
  return true;
}

class CanonicalWriter {
  private out = '';
  /** The objects and arrays being written (their ancestors), to refuse a cycle instead of recursing forever. */
  private readonly open = new Set<object>();

  write(value: unknown): string {
    this.value(value);
    return this.out;
  }

  private value(value: unknown): void {
    if (value === null) {
      this.out += 'null';
      return;
    }
    switch (typeof value) {
      case 'string':
        this.out += quote(value);
        return;
      case 'boolean':
        this.out += value ? 'true' : 'false';
        return;
      case 'number':
        if (!Number.isFinite(value)) throw new TypeError('canonical JSON cannot encode a non-finite number');
        // String(n) is JSON's number form for every finite number (-0 included: "0").
        this.out += String(value);
        return;
      case 'object':
        if (this.open.has(value)) throw new TypeError('canonical JSON cannot encode a cycle');
        this.open.add(value);
        try {
          if (Array.isArray(value)) this.array(value);
          else this.object(value as Record<string, unknown>);
        } finally {
          this.open.delete(value);
        }
        return;
      default:
        throw new TypeError(`canonical JSON cannot encode a ${typeof value}`);
    }
  }

  private array(items: unknown[]): void {
    this.out += '[';
    for (let i = 0; i < items.length; i++) {
      if (i > 0) this.out += ',';
      const item = items[i];
      // undefined and holes are null, as in JSON.stringify.
      if (item === undefined) this.out += 'null';
      else this.value(item);
    }
    this.out += ']';
  }

  private object(object: Record<string, unknown>): void {
    const keys = Object.keys(object);
    if (!sorted(keys)) keys.sort();
    this.out += '{';
    let first = true;
    for (const key of keys) {
      const member = object[key];
      if (member === undefined) continue;
      this.out += first ? `${quote(key)}:` : `,${quote(key)}:`;
      first = false;
      this.value(member);
    }
    this.out += '}';
  }
}
