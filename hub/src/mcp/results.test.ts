import { describe, expect, it } from 'vitest';
import type { DispatchResult } from '../services.js';
import { jsonResult, probeEnvelope } from './results.js';

const dispatched = (result: unknown): DispatchResult => ({
  agent: 'web-1',
  probe: 'bench.noop',
  status: 'ok',
  durationMs: 1.4,
  truncated: false,
  result,
});

const text = (value: unknown): string => (jsonResult(value).content[0] as { text: string }).text;

describe('probe envelopes are serialised once', () => {
  it('a result that fits is the envelope JSON, the same text jsonResult returns', () => {
    const envelope = probeEnvelope(dispatched({ used: [1, 2, 3], note: 'é' }), 64 * 1024, []);
    expect(envelope.truncated).toBe(false);
    expect(text(envelope)).toBe(JSON.stringify(envelope));
    expect(JSON.parse(text(envelope)).data).toEqual({ used: [1, 2, 3], note: 'é' });
  });

  it('measures the data as before: a string that exactly fills the room is kept, one byte more is cut', () => {
    const budget = 4096;
    const head = probeEnvelope(dispatched(null), budget, []);
    const { data: _data, ...withoutData } = head;
    const room = Math.max(1024, budget - Buffer.byteLength(JSON.stringify(withoutData)) - 512);
    // JSON of a string of n ASCII letters is n + 2 bytes.
    const fits = probeEnvelope(dispatched('x'.repeat(room - 2)), budget, []);
    expect(fits.truncated).toBe(false);
    expect(fits.data).toBe('x'.repeat(room - 2));
    const over = probeEnvelope(dispatched('x'.repeat(room - 1)), budget, []);
    expect(over.truncated).toBe(true);
    expect(text(over)).toBe(JSON.stringify(over));
  });
});
