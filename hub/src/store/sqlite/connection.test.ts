import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.js';
import { PAGE_ROWS } from './connection.js';
import { openSqliteStore, type SqliteHubStore } from './index.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function store(): SqliteHubStore {
  const { dir, cleanup } = tempDir();
  const opened = openSqliteStore(path.join(dir, 'sonde.db'));
  cleanups.push(async () => {
    await opened.close();
    cleanup();
  });
  return opened;
}

describe('the SQLite connection mutex', () => {
  it('keeps two transactions that await in the middle from interleaving their statements', async () => {
    const s = store();
    const order: string[] = [];
    // Each transaction reads a counter, yields the event loop (as a network call would), then writes counter + 1.
    // Interleaved, both would read the same value and one increment would be lost.
    const increment = (name: string) =>
      s.transaction(async (tx) => {
        order.push(`${name} begin`);
        const value = Number((await tx.settings.get('counter')) ?? '0');
        await nextTurn();
        await nextTurn();
        await tx.settings.set('counter', String(value + 1));
        order.push(`${name} commit`);
      });
    await Promise.all([increment('a'), increment('b'), increment('c')]);
    expect(await s.settings.get('counter')).toBe('3');
    expect(order).toEqual(['a begin', 'a commit', 'b begin', 'b commit', 'c begin', 'c commit']);
  });

  it('makes a call from outside wait for a running transaction, and sees only what it committed', async () => {
    const s = store();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const running = s.transaction(async (tx) => {
      await tx.settings.set('k', 'inside');
      await held;
    });
    await nextTurn();
    // Another request reads while the transaction waits: it must not run inside it (it would see the uncommitted value).
    let read: string | undefined = 'not yet';
    const outside = s.settings.get('k').then((value) => (read = value));
    await nextTurn();
    expect(read).toBe('not yet');
    release();
    await Promise.all([running, outside]);
    expect(read).toBe('inside');
  });

  it('rolls back when the callback rejects, and the next transaction runs normally', async () => {
    const s = store();
    await expect(
      s.transaction(async (tx) => {
        await tx.settings.set('k', 'lost');
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(await s.settings.get('k')).toBeUndefined();
    await s.transaction((tx) => tx.settings.set('k', 'kept'));
    expect(await s.settings.get('k')).toBe('kept');
  });

  it('refuses the outer store inside a transaction (it would wait for itself) and a handle used after its end', async () => {
    const s = store();
    let leaked: typeof s | undefined;
    await expect(
      s.transaction(async (tx) => {
        leaked = tx as typeof s;
        await s.settings.get('k');
      }),
    ).rejects.toThrow(/transaction handle/);
    await expect(leaked!.settings.get('k')).rejects.toThrow(/already ended/);
  });

  it('nests a transaction as a savepoint that rolls back alone', async () => {
    const s = store();
    await s.transaction(async (tx) => {
      await tx.settings.set('outer', '1');
      await expect(
        tx.transaction(async (inner) => {
          await inner.settings.set('inner', '1');
          throw new Error('inner fails');
        }),
      ).rejects.toThrow('inner fails');
    });
    expect(await s.settings.get('outer')).toBe('1');
    expect(await s.settings.get('inner')).toBeUndefined();
  });

  it('iterates in pages and lets other calls run between them', async () => {
    const s = store();
    const entries = Array.from({ length: PAGE_ROWS + 5 }, () => ({
      action: 'login',
      actor: { kind: 'user' as const, id: 'u', name: 'ann' },
      status: 'ok' as const,
      at: '2026-01-01T00:00:00.000Z',
    }));
    await s.audit.append(entries, (_entry, _prev, seq) => `h${seq}`);
    const seen: number[] = [];
    let between: string | undefined;
    for await (const row of s.audit.chainRows(1)) {
      seen.push(row[0]);
      if (row[0] === PAGE_ROWS) between = await s.settings.get('missing').then(() => 'ran');
    }
    expect(seen).toHaveLength(PAGE_ROWS + 5);
    expect(seen.at(-1)).toBe(PAGE_ROWS + 5);
    expect(between).toBe('ran');
  });
});
