import { describe, expect, it } from 'vitest';
import { describeCuts, fitJson } from './budget.js';

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

  it('says how to get the rest', () => {
    expect(describeCuts([{ path: '$.rows', kept: 5, of: 10, unit: 'items' }], ['limit', 'offset'])).toBe(
      'result cut to fit the size budget ($.rows: 5 of 10 items); call again with limit/offset to get the rest',
    );
  });
});
