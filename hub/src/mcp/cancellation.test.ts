import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { eitherSignal } from './cancellation.js';

describe('eitherSignal', () => {
  it('aborts when either source aborts, with that source reason', () => {
    for (const which of [0, 1]) {
      const sources = [new AbortController(), new AbortController()];
      const { signal } = eitherSignal(sources[0].signal, sources[1].signal);
      expect(signal.aborted).toBe(false);
      sources[which].abort(new Error(`source ${which}`));
      expect(signal.aborted).toBe(true);
      expect((signal.reason as Error).message).toBe(`source ${which}`);
    }
  });

  it('is aborted at once when a source already is', () => {
    const done = new AbortController();
    done.abort('gone');
    expect(eitherSignal(new AbortController().signal, done.signal).signal.reason).toBe('gone');
  });

  it('leaves no listener on a long-lived source once released or aborted', () => {
    // The POST's signal outlives every call of a batch: released calls must not pile listeners on it.
    const post = new AbortController();
    for (let i = 0; i < 50; i++) eitherSignal(post.signal, new AbortController().signal).release();
    expect(getEventListeners(post.signal, 'abort')).toHaveLength(0);
    const call = new AbortController();
    const joined = eitherSignal(post.signal, call.signal);
    call.abort();
    expect(joined.signal.aborted).toBe(true);
    expect(getEventListeners(post.signal, 'abort')).toHaveLength(0);
    // After release, a later abort of a source no longer reaches the call's signal.
    const later = eitherSignal(post.signal, new AbortController().signal);
    later.release();
    post.abort();
    expect(later.signal.aborted).toBe(false);
  });
});
