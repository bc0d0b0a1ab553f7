import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CLUSTER_REPLAY_WINDOW_MS, ClusterAuthError, NonceCache, open, seal } from './envelope.js';

const key = randomBytes(32);
const opened = (data: Uint8Array, extra: Partial<Parameters<typeof open>[1]> = {}) =>
  open(data, { key, self: 'hub-b', nonces: new NonceCache(), ...extra });

describe('hub-to-hub envelope', () => {
  it('opens what a hub with the same key sealed for it', () => {
    const { data, nonce } = seal('probe', 'hub-b', { agentId: 'x' }, { key, from: 'hub-a' });
    expect(opened(data)).toMatchObject({ k: 'probe', from: 'hub-a', to: 'hub-b', n: nonce, b: { agentId: 'x' } });
  });

  it('refuses another key, a changed byte, a message for another hub, garbage', () => {
    const other = seal('probe', 'hub-b', {}, { key: randomBytes(32), from: 'hub-a' }).data;
    expect(() => opened(other)).toThrow(/bad MAC/);
    const { data } = seal('probe', 'hub-b', { n: 1 }, { key, from: 'hub-a' });
    const tampered = Buffer.from(data);
    tampered[tampered.length - 3] ^= 0x01;
    expect(() => opened(tampered)).toThrow(ClusterAuthError);
    expect(() => opened(seal('probe', 'hub-c', {}, { key, from: 'hub-a' }).data)).toThrow(/not to this hub/);
    expect(() => opened(Buffer.from('hello'))).toThrow(/not a sealed hub message/);
    expect(() => opened(Buffer.from(`${'A'.repeat(43)}.{}`))).toThrow(/bad MAC/);
  });

  it('refuses a replay and a stale timestamp', () => {
    const nonces = new NonceCache();
    const { data } = seal('probe', 'hub-b', {}, { key, from: 'hub-a' });
    opened(data, { nonces });
    expect(() => opened(data, { nonces })).toThrow(/replayed/);
    const old = seal('probe', 'hub-b', {}, { key, from: 'hub-a', now: () => Date.now() - CLUSTER_REPLAY_WINDOW_MS - 1_000 });
    expect(() => opened(old.data)).toThrow(/stale/);
  });

  it('accepts broadcasts only where asked', () => {
    const { data } = seal('agents', '*', { ids: [] }, { key, from: 'hub-a' });
    expect(() => opened(data)).toThrow(/not to this hub/);
    expect(opened(data, { broadcast: true }).to).toBe('*');
  });

  it('remembers a nonce for at least the whole window on both sides of a timestamp', () => {
    let now = 0;
    const nonces = new NonceCache(() => now);
    expect(nonces.add('n1')).toBe(true);
    for (now = 0; now <= 2 * CLUSTER_REPLAY_WINDOW_MS; now += 5_000) {
      nonces.add(`filler-${now}`);
      expect(nonces.add('n1')).toBe(false);
    }
  });
});
