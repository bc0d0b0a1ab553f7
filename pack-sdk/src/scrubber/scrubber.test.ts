import { describe, expect, it } from 'vitest';
import { compileCustomPatterns, createScrubber, isSensitiveName, normalizeStatement, REDACTED, WITHHELD } from './index.js';

const scrubber = createScrubber();

describe('key-name redaction', () => {
  it('replaces string values under secret-looking keys, at any depth', () => {
    const input = { db: { host: 'db', password: 'hunter2', port: 5432 }, apiKey: 'abc', nested: [{ client_secret: 'x1' }] };
    const { value, redactions } = scrubber.scrub(input);
    expect(value).toEqual({ db: { host: 'db', password: REDACTED, port: 5432 }, apiKey: REDACTED, nested: [{ client_secret: REDACTED }] });
    expect(redactions).toBe(3);
  });

  it('redacts numbers and every leaf of an object under a secret key, keeps booleans and settings', () => {
    const input = {
      keyspace: { db0: { keys: 12, expires: 0 } },
      tokenCount: 5,
      passwordAuth: true,
      credentials: { user: 'bob', pass: 'pw1' },
      secret: { value: 'inner', nested: [{ v: 'deep' }] },
      pin: 4711,
      password: 123456,
      password_min_length: 12,
      token_ttl: 3600,
    };
    expect(scrubber.scrub(input).value).toEqual({
      keyspace: { db0: { keys: 12, expires: 0 } },
      tokenCount: 5,
      passwordAuth: true,
      credentials: { user: REDACTED, pass: REDACTED },
      secret: { value: REDACTED, nested: [{ v: REDACTED }] },
      pin: REDACTED,
      password: REDACTED,
      password_min_length: 12,
      token_ttl: 3600,
    });
  });

  it('redacts every string of an array under a secret key', () => {
    expect(scrubber.scrub({ tokens: ['a1', 'b2', 3] }).value).toEqual({ tokens: [REDACTED, REDACTED, REDACTED] });
  });

  it('redacts the value of a name/value pair whose name announces a secret', () => {
    const env = [
      { name: 'DB_PASSWORD', value: 'hunter2' },
      { name: 'LOG_LEVEL', value: 'info' },
    ];
    expect(scrubber.scrub({ env }).value).toEqual({
      env: [
        { name: 'DB_PASSWORD', value: REDACTED },
        { name: 'LOG_LEVEL', value: 'info' },
      ],
    });
  });

  it.each([
    ['keyspace', false],
    ['keyspace_hits', false],
    ['keys', false],
    ['monkey', false],
    ['keyboard', false],
    ['publicKey', false],
    ['primary_key', false],
    ['keyId', false],
    ['PWD', false],
    ['secretary', false],
    ['key', true],
    ['apiKey', true],
    ['x-api-key', true],
    ['AccountKey', true],
    ['apikey', true],
    ['AWS_SECRET_ACCESS_KEY', true],
    ['DB_PASS', true],
    ['MYSQL_PWD', true],
    ['refresh_token', true],
    ['privateIp', true],
    ['Credentials', true],
  ])('isSensitiveName(%s) is %s', (name, expected) => {
    expect(isSensitiveName(name)).toBe(expected);
  });
});

describe('odd input', () => {
  it('never mutates its input', () => {
    const input = { password: 'x', list: ['API_KEY=sk-abcdefghijklmnopqrstuvwx'], deep: { token: 't' } };
    const copy = structuredClone(input);
    scrubber.scrub(input);
    expect(input).toEqual(copy);
  });

  it('replaces cycles with a marker and keeps shared (non-cyclic) references', () => {
    const shared = { a: 1 };
    const input: Record<string, unknown> = { one: shared, two: shared };
    input.self = input;
    expect(scrubber.scrub(input).value).toEqual({ one: { a: 1 }, two: { a: 1 }, self: '[Circular]' });
  });

  it('bounds huge strings and reports withheld work instead of hanging', () => {
    const small = createScrubber({ maxStringLength: 1000 });
    const out = small.scrub('a'.repeat(5000)).value as string;
    expect(out.length).toBeLessThan(1100);
    expect(out).toMatch(/TRUNCATED by scrubber: 4000 more characters/);
    const budget = createScrubber({ maxTotalChars: 10 });
    expect(budget.scrub(['short', 'this one is over the budget'])).toEqual({ value: ['short', WITHHELD], redactions: 1 });
  });

  it('scrubs a 4 MiB hostile string quickly', () => {
    const hostile = `${'password='.repeat(100_000)}${'-----BEGIN PRIVATE KEY-----'.repeat(20_000)}${'Bearer '.repeat(50_000)}${'a:'.repeat(200_000)}`;
    const started = performance.now();
    scrubber.scrub(hostile);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it.each([
    ['SQL keywords without literals', 'PASSWORD FOR x '.repeat(60_000)],
    ['XML tags that never close', '<password a="1" '.repeat(60_000)],
    ['XML elements that never end', '<password>x'.repeat(90_000)],
    ['tool names and flags on one line', 'mysql -u x '.repeat(80_000)],
    ['curl users without a colon', 'curl -u user '.repeat(70_000)],
    ['tabs', 'password\t'.repeat(100_000)],
    ['directives', 'requirepass x\n'.repeat(60_000)],
    ['Redis AUTH words', 'AUTH '.repeat(150_000)],
    ['Kubernetes Secret lines', `kind: Secret\ndata:\n${'  k: v\n'.repeat(100_000)}`],
    ['base64url runs', 'Ab1'.repeat(250_000)],
    ['hash prefixes', '$6$'.repeat(200_000)],
    ['URLs with at signs', 'http://u:p/'.repeat(30_000) + '@'.repeat(30_000)],
  ])('scrubs a hostile string of %s within the time budget', (_label, hostile) => {
    const started = performance.now();
    const { value } = scrubber.scrub(hostile);
    expect(value).not.toBe(WITHHELD);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('replaces lone surrogates so the output encodes as UTF-8', () => {
    const { value } = scrubber.scrub({ s: 'ok\uD800 and \uDC00 and 😀' });
    expect(value).toEqual({ s: 'ok\uFFFD and \uFFFD and 😀' });
  });

  it('turns non-plain values into JSON-safe ones and scrubs bytes', () => {
    class Thing {
      password = 'p';
      visible = 1;
    }
    const input = {
      buf: Buffer.from('API_KEY=sk-abcdefghijklmnopqrstuvwx'),
      date: new Date(0),
      map: new Map([['token', 'abc']]),
      set: new Set(['x']),
      big: 10n,
      nan: Number.NaN,
      fn: () => 1,
      sym: Symbol('s'),
      thing: new Thing(),
      err: new Error('password=hunter2'),
    };
    expect(scrubber.scrub(input).value).toEqual({
      buf: 'API_KEY=[REDACTED]',
      date: '1970-01-01T00:00:00.000Z',
      map: { token: REDACTED },
      set: ['x'],
      big: '10',
      nan: null,
      thing: { password: REDACTED, visible: 1 },
      err: { name: 'Error', message: 'password=[REDACTED]' },
    });
  });

  it('withholds a value whose getter throws and keeps the rest', () => {
    const input = { ok: 1 };
    Object.defineProperty(input, 'bad', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    expect(scrubber.scrub(input).value).toEqual({ ok: 1, bad: '[unreadable]' });
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    expect(scrubber.scrub({ p: revoked.proxy }).value).toEqual({ p: WITHHELD });
  });

  it('scrubs secrets hidden in keys without losing entries', () => {
    const input = { ghp_abcdefghijklmnopqrstuvwxyz0123456789: 1, ghp_0123456789abcdefghijklmnopqrstuvwxyz: 2 };
    expect(scrubber.scrub(input).value).toEqual({ [REDACTED]: 1, [`${REDACTED}#2`]: 2 });
  });

  it('handles deep nesting without a stack overflow', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(() => scrubber.scrub(deep)).not.toThrow();
  });
});

describe('custom patterns', () => {
  it('redacts matches, or only the `secret` group', () => {
    const custom = createScrubber({ customPatterns: ['acme-[a-f0-9]{16}', '/svc_ticket=(?<secret>\\w+)/i'] });
    const { value, redactions } = custom.scrub('id acme-0123456789abcdef and SVC_TICKET=abc123 end');
    expect(value).toBe(`id ${REDACTED} and SVC_TICKET=${REDACTED} end`);
    expect(redactions).toBe(2);
  });

  it('finds matches that straddle the run window', () => {
    const custom = createScrubber({ customPatterns: ['acme-[a-f0-9]{16}'] });
    const text = `${'x'.repeat(2040)}acme-0123456789abcdef${'y'.repeat(5000)}acme-fedcba9876543210`;
    const out = custom.scrub(text).value as string;
    expect(out).not.toContain('acme-');
    expect(out.length).toBe(text.length - 2 * 21 + 2 * REDACTED.length);
  });

  it.each([
    ['(unclosed', /does not compile/],
    ['(a+)+$', /catastrophic/],
    ['(a|ab)*c', /catastrophic/],
    ['(\\w+)\\1', /backreferences/],
    ['a*', /empty string/],
    ['/x/g', /flags/],
    ['x'.repeat(600), /longer than/],
    ['\\w*\\w*\\w*\\w*!', /takes over/],
  ])('refuses %s at config load with a clear error', (pattern, reason) => {
    expect(() => compileCustomPatterns([pattern])).toThrow(
      expect.objectContaining({ code: 'SONDE_ERR_INVALID_SCRUB_PATTERN', message: expect.stringMatching(reason) }),
    );
    expect(() => createScrubber({ customPatterns: ['ok-[0-9]+', pattern] })).toThrow(/customPatterns\[1\]/);
  });
});

describe("normalizeStatement (database packs: other sessions' statements)", () => {
  it('replaces every literal and keeps the shape', () => {
    expect(normalizeStatement("ALTER ROLE app WITH PASSWORD 'it''s-S3cret'", 'postgres')).toBe('ALTER ROLE app WITH PASSWORD ?');
    expect(normalizeStatement("select * from t where a = E'x\\'y' and b = $$body$$ and c = $1 and d = 4.5", 'postgres')).toBe(
      'select * from t where a = ? and b = ? and c = $1 and d = ?',
    );
    expect(normalizeStatement("CREATE USER 'shop'@'%' IDENTIFIED BY 'pw\\'x'", 'mysql')).toBe('CREATE USER ?@? IDENTIFIED BY ?');
    expect(normalizeStatement('SELECT * FROM t2 WHERE a = "x" AND b = 0x1F', 'mysql')).toBe('SELECT * FROM t2 WHERE a = ? AND b = ?');
    // Cut off by the server's 200-character truncation: the open literal runs to the end.
    expect(normalizeStatement("INSERT INTO s VALUES ('half a secr", 'postgres')).toBe('INSERT INTO s VALUES (?');
    expect(normalizeStatement(null, 'mysql')).toBeNull();
  });

  it.each([
    ['postgres', "E'\\".repeat(100_000)],
    ['postgres', '$$'.repeat(100_000)],
    ['mysql', '"\\'.repeat(100_000)],
    ['mysql', "'\\".repeat(100_000)],
  ] as const)('stays linear on hostile %s text', (dialect, text) => {
    const started = performance.now();
    normalizeStatement(text, dialect);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
