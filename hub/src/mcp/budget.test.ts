import { describe, expect, it } from 'vitest';
import { describeCuts, fitJson, jsonBytes } from './budget.js';

const size = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

describe('fitJson', () => {
  it('leaves a small value alone', () => {
    const value = { a: [1, 2, 3] };
    expect(fitJson(value, 1000)).toEqual({ value, truncated: false, cuts: [] });
  });

  it('shortens the largest array, keeps the head by default and reports the cut', () => {
    const value = { meta: 'm', rows: Array.from({ length: 1000 }, (_, i) => `row ${i}`) };
    const fitted = fitJson(value, 2000);
    expect(size(fitted.value)).toBeLessThanOrEqual(2000);
    const rows = (fitted.value as typeof value).rows;
    expect(rows[0]).toBe('row 0');
    expect(fitted.cuts).toEqual([{ path: '$.rows', kept: rows.length, of: 1000, unit: 'items' }]);
    expect(value.rows).toHaveLength(1000);
  });

  it('keeps the tail for logs', () => {
    const fitted = fitJson({ lines: Array.from({ length: 1000 }, (_, i) => `l${i}`) }, 500, 'tail');
    expect((fitted.value as { lines: string[] }).lines.at(-1)).toBe('l999');
  });

  it('cuts a long string, multi-byte text included', () => {
    const fitted = fitJson({ text: 'é'.repeat(10_000) }, 1000);
    expect(size(fitted.value)).toBeLessThanOrEqual(1000);
    expect(fitted.cuts[0]).toMatchObject({ path: '$.text', unit: 'chars', of: 10_000 });
  });

  it('falls back to a cut JSON string when the structure alone is too big', () => {
    const wide = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`key${i}`, i]));
    const fitted = fitJson(wide, 300);
    expect(typeof fitted.value).toBe('string');
    expect(size(fitted.value)).toBeLessThanOrEqual(300);
  });

  it('counts the bytes of every kind of leaf as JSON.stringify writes them', () => {
    const leaves = [
      '',
      'plain ascii',
      'quote " and \\ backslash',
      'tab\tnewline\n',
      '\u0000\u001f\u007f',
      'é 漢字 😀',
      '\ud800 lone',
      0,
      -0,
      1.5,
      -12,
      1e21,
      1e-7,
      2 ** 53,
      NaN,
      Infinity,
      -Infinity,
      true,
      false,
      null,
      undefined,
      [1, 'a'],
      { k: 'v' },
    ];
    for (const leaf of leaves)
      expect(jsonBytes(leaf), JSON.stringify(leaf) ?? 'undefined').toBe(Buffer.byteLength(JSON.stringify(leaf) ?? 'null'));
  });

  it('cuts deep inside without changing the value given, copying only the containers on the way', () => {
    const untouched = { name: 'kept as is' };
    const value = { summary: { ok: 3 }, hosts: { web: untouched, db: { rows: Array.from({ length: 2000 }, (_, i) => `line ${i}`) } } };
    const before = JSON.stringify(value);
    const fitted = fitJson(value, 3000);
    expect(JSON.stringify(value)).toBe(before);
    expect(size(fitted.value)).toBeLessThanOrEqual(3000);
    expect(fitted.cuts).toEqual([
      { path: '$.hosts.db.rows', kept: (fitted.value as typeof value).hosts.db.rows.length, of: 2000, unit: 'items' },
    ]);
    const out = fitted.value as typeof value;
    expect(out).not.toBe(value);
    expect(out.hosts).not.toBe(value.hosts);
    expect(out.hosts.web).toBe(untouched);
    expect(out.summary).toBe(value.summary);
  });

  it('cuts a health_check answer over 10,000 agents to the budget, leaving the answer built intact', () => {
    const agents = Array.from({ length: 10_000 }, (_, i) => ({
      agent: `sim-${i}`,
      status: 'ok',
      checks: [{ probe: 'bench.noop', params: {}, status: 'ok', durationMs: 3, data: { ok: true } }],
    }));
    const payload = { summary: { ok: 10_000 }, agents, note: 'checks[].data is output from the hosts' };
    const fitted = fitJson(payload, 64 * 1024 - 512);
    const out = fitted.value as typeof payload;
    expect(size(out)).toBeLessThanOrEqual(64 * 1024 - 512);
    expect(out.agents[0]).toBe(agents[0]);
    expect(fitted.cuts).toEqual([{ path: '$.agents', kept: out.agents.length, of: 10_000, unit: 'items' }]);
    expect(payload.agents).toHaveLength(10_000);
  });

  it('says how to get the rest', () => {
    expect(describeCuts([{ path: '$.rows', kept: 5, of: 10, unit: 'items' }], ['limit', 'offset'])).toBe(
      'result cut to fit the size budget ($.rows: 5 of 10 items); call again with limit/offset to get the rest',
    );
  });
});
