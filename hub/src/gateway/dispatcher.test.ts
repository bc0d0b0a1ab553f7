import { describe, expect, it } from 'vitest';
import { describeLastSeen } from './dispatcher.js';

describe('describeLastSeen', () => {
  const now = Date.parse('2026-11-24T12:00:00.000Z');
  it('gives the time and how long ago, in the unit a person reads', () => {
    expect(describeLastSeen(null, now)).toBe('never');
    expect(describeLastSeen('2026-11-24T11:59:30.000Z', now)).toBe('2026-11-24T11:59:30.000Z (30 s ago)');
    expect(describeLastSeen('2026-11-24T11:56:00.000Z', now)).toBe('2026-11-24T11:56:00.000Z (4 min ago)');
    expect(describeLastSeen('2026-11-24T07:00:00.000Z', now)).toBe('2026-11-24T07:00:00.000Z (5 h ago)');
    expect(describeLastSeen('2026-11-20T12:00:00.000Z', now)).toBe('2026-11-20T12:00:00.000Z (4 days ago)');
  });
});
