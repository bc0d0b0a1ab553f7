import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { HubStore } from '../store/types.js';
import { LastSeenWriter, ROWS_PER_TRANSACTION } from './last-seen.js';

/** Records each transaction's writes (made through the transaction's handle). */
function fakeStore() {
  const transactions: Array<Array<[string, string]>> = [];
  const store = {
    transaction: async <T>(fn: (tx: HubStore) => Promise<T>): Promise<T> => {
      const writes: Array<[string, string]> = [];
      const tx = { agents: { markSeen: (id: string, at: string) => Promise.resolve(void writes.push([id, at])) } } as unknown as HubStore;
      try {
        return await fn(tx);
      } finally {
        transactions.push(writes);
      }
    },
  } as unknown as HubStore;
  return { store, transactions };
}
const log = { warn: () => undefined } as unknown as FastifyBaseLogger;
const at = (second: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('LastSeenWriter', () => {
  it('keeps the latest time per agent and writes nothing before the flush', async () => {
    const { store, transactions } = fakeStore();
    const writer = new LastSeenWriter(store, log, 60_000);
    writer.mark('a', at(2));
    writer.mark('a', at(1));
    writer.mark('b', at(3));
    expect(transactions).toEqual([]);
    writer.forget('b');
    await writer.flush();
    expect(transactions).toEqual([[['a', at(2)]]]);
  });

  it('writes a large backlog in slices, one per event-loop turn, and everything at once when asked', async () => {
    const { store, transactions } = fakeStore();
    const writer = new LastSeenWriter(store, log, 60_000);
    const count = 2 * ROWS_PER_TRANSACTION + 10;
    for (let i = 0; i < count; i++) writer.mark(`agent-${i}`, at(i % 60));
    await writer.flush();
    expect(transactions.map((t) => t.length)).toEqual([ROWS_PER_TRANSACTION]);
    await turn();
    await turn();
    expect(transactions.map((t) => t.length)).toEqual([ROWS_PER_TRANSACTION, ROWS_PER_TRANSACTION, 10]);

    for (let i = 0; i < count; i++) writer.mark(`agent-${i}`, at(59));
    await writer.flush({ all: true });
    expect(transactions.slice(3).flat()).toHaveLength(count);
  });

  it('flushes by itself after its interval', async () => {
    const { store, transactions } = fakeStore();
    const writer = new LastSeenWriter(store, log, 20);
    writer.mark('a', at(1));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(transactions).toEqual([[['a', at(1)]]]);
  });
});
