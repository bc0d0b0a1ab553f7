import { describe, expect, it } from 'vitest';
import { capResult, TRUNCATION_MARKER } from './cap.js';

describe('capResult', () => {
  it('passes a small result through untouched', () => {
    const value = { a: 'x', list: [1, 2] };
    expect(capResult(value, 1000)).toEqual({ value, truncated: false, originalBytes: JSON.stringify(value).length });
  });

  it('cuts long strings and long arrays with a marker until the result fits', () => {
    const value = { log: 'y'.repeat(50_000), rows: Array.from({ length: 20_000 }, (_, i) => ({ i })) };
    const out = capResult(value, 10_000);
    expect(out.truncated).toBe(true);
    expect(JSON.stringify(out.value).length).toBeLessThanOrEqual(10_000);
    expect(JSON.stringify(out.value)).toContain(TRUNCATION_MARKER);
  });

  it('cuts on a character boundary for multi-byte text', () => {
    const out = capResult({ text: 'é'.repeat(10_000) }, 2000);
    expect(JSON.stringify(out.value)).not.toContain('\uFFFD');
  });
});
