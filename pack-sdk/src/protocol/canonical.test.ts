import { verify } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.js';
import { signEnvelope, signingInput, type UnsignedEnvelope } from './envelope.js';
import { ed25519PrivateKeyFromSeed } from './wire.js';

/**
 * The form canonicalJson had until issue 26 (arrays of member strings per object, sorted and joined), kept here as the
 * reference: signatures are made over these bytes by agents and hubs of every build, so the faster writer must agree
 * with it exactly.
 */
function referenceCanonicalJson(value: unknown, seen = new Set<object>()): string {
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
        if (Array.isArray(value))
          return `[${value.map((item) => (item === undefined ? 'null' : referenceCanonicalJson(item, seen))).join(',')}]`;
        const entries = Object.keys(value)
          .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
          .sort()
          .map((key) => `${JSON.stringify(key)}:${referenceCanonicalJson((value as Record<string, unknown>)[key], seen)}`);
        return `{${entries.join(',')}}`;
      } finally {
        seen.delete(value);
      }
    }
    default:
      throw new TypeError(`canonical JSON cannot encode a ${typeof value}`);
  }
}

/** Strings with what escaping is about: quotes, backslashes, control characters, lone and paired surrogates, long runs. */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', '"', '\\', '\n\t\r\b\f', '\u0000\u001f\u007f', '\u2028\u2029', '\ud800', '\udfff x', '\ud83d\ude00', 'é', 'e\u0301'),
  fc.string({ unit: fc.constantFrom('a', '"', '\\', '\u0001', '\ud800', 'ß'), minLength: 200, maxLength: 400 }),
);
const key = fc.oneof(text, fc.constantFrom('a', 'b', 'B', '10', '2', '__proto__x', 'agentId', 'payload', 'v'));
const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom(-0, 0, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, Number.MAX_SAFE_INTEGER + 2, -1e300, 0.1 + 0.2),
);

/** JSON-like values; objects may carry undefined members (dropped) and arrays undefined items (null), as senders build them. */
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    number,
    text,
    fc.array(fc.oneof(tie('value'), fc.constant(undefined)), { maxLength: 6 }),
    fc.dictionary(key, fc.oneof(tie('value'), fc.constant(undefined)), { maxKeys: 8 }),
  ),
}));

describe('canonicalJson', () => {
  it('writes exactly the bytes of the reference form, for generated values', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalJson(v)).toBe(referenceCanonicalJson(v));
      }),
      { numRuns: 2_000 },
    );
  });

  it('does not depend on key order, and a value parsed back from its output writes the same bytes', () => {
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 10 }), (object) => {
        const reversed = Object.fromEntries(Object.entries(object).reverse());
        const out = canonicalJson(object);
        expect(canonicalJson(reversed)).toBe(out);
        // Parsed frames arrive with their keys already sorted: the path that skips the sort must agree too.
        expect(canonicalJson(JSON.parse(out))).toBe(out);
      }),
      { numRuns: 500 },
    );
  });

  it('writes the recorded bytes for fixed values (golden vectors)', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: '\u00e9' }, u: undefined })).toBe(
      '{"a":{"c":"\u00e9","d":[1,{"x":1,"y":2}]},"b":1}',
    );
    expect(
      canonicalJson({
        '': 0,
        '\u00e9': 'e\u0301',
        Z: 'z',
        a: 'q"u\\o\nte\u0000\u001f\u007f\u2028',
        '10': 10,
        '2': 2,
        ab: [null, true, false, undefined],
      }),
    ).toBe('{"":0,"10":10,"2":2,"Z":"z","a":"q\\"u\\\\o\\nte\\u0000\\u001f\u007f\u2028","ab":[null,true,false,null],"\u00e9":"e\u0301"}');
    expect(
      canonicalJson({
        n: [-0, 0, 1e21, 1e-7, 123456789012345680000, Number.MAX_SAFE_INTEGER + 2, Number.MAX_VALUE, Number.MIN_VALUE, -1.5, 0.1 + 0.2],
      }),
    ).toBe('{"n":[0,0,1e+21,1e-7,123456789012345680000,9007199254740992,1.7976931348623157e+308,5e-324,-1.5,0.30000000000000004]}');
    expect(canonicalJson({ s: `\ud83d\ude00 emoji, lone \ud800 and \udfff, ${'long '.repeat(60)}\ud800` })).toBe(
      `{"s":"\ud83d\ude00 emoji, lone \\ud800 and \\udfff, ${'long '.repeat(60)}\\ud800"}`,
    );
    expect(canonicalJson([[[]], {}, [{}], 'x'])).toBe('[[[]],{},[{}],"x"]');
    expect(canonicalJson(['\udfff', 'a\ud800', '\ud83d\ude00'])).toBe('["\\udfff","a\\ud800","\ud83d\ude00"]');
  });

  it('signs a fixed envelope with a fixed Ed25519 key to the recorded signature (wire golden vector)', () => {
    const key = ed25519PrivateKeyFromSeed(Buffer.from(Array.from({ length: 32 }, (_, i) => i)));
    const envelope: UnsignedEnvelope = {
      v: 1,
      id: '0b8e4f6a-2c1d-4e3f-9a8b-7c6d5e4f3a2b',
      type: 'agent.probe.result',
      ts: 1796600000000,
      agentId: '6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f',
      payload: {
        requestId: '1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
        status: 'ok',
        result: { filesystems: [{ mount: '/', usedPct: 41, sizeKb: 102400000, label: 'r\u00f6\u00f6t "disk"' }] },
        durationMs: 3.2,
        truncated: false,
      },
    };
    const signed = signEnvelope(envelope, key);
    expect(signingInput(signed).toString('utf8')).toBe(
      '{"agentId":"6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f","alg":"ed25519","id":"0b8e4f6a-2c1d-4e3f-9a8b-7c6d5e4f3a2b",' +
        '"payload":{"durationMs":3.2,"requestId":"1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d","result":{"filesystems":' +
        '[{"label":"r\u00f6\u00f6t \\"disk\\"","mount":"/","sizeKb":102400000,"usedPct":41}]},"status":"ok","truncated":false},' +
        '"ts":1796600000000,"type":"agent.probe.result","v":1}',
    );
    expect(signed.sig).toBe('EBk0xs5yTW3wGi1XdOXAeMX5uPAh1ZdJRQVsbY7j7diy3fB3SugNtzl/9w5wiVCX/Sn/b2A1lmRInlbIep/7CQ==');
    expect(verify(null, signingInput(signed), key, Buffer.from(signed.sig!, 'base64'))).toBe(true);
  });

  it('refuses what JSON cannot carry, as before: cycles, non-finite numbers, functions, symbols, bigints', () => {
    const cyclic: Record<string, unknown> = { a: [1] };
    (cyclic.a as unknown[]).push(cyclic);
    expect(() => canonicalJson(cyclic)).toThrow(/cycle/);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -Infinity]) expect(() => canonicalJson({ n: bad })).toThrow(/non-finite/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function/);
    expect(() => canonicalJson([Symbol('s')])).toThrow(/symbol/);
    expect(() => canonicalJson({ b: 1n })).toThrow(/bigint/);
    // The same object twice side by side is not a cycle.
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: [shared, shared] })).toBe('{"a":{"x":1},"b":[{"x":1},{"x":1}]}');
  });

  it('writes an array hole as null, as JSON.stringify does (the reference wrote nothing, which is not JSON)', () => {
    // eslint-disable-next-line no-sparse-arrays
    const holey = [1, , 3];
    expect(canonicalJson(holey)).toBe('[1,null,3]');
    expect(canonicalJson(holey)).toBe(JSON.stringify(holey));
  });
});
