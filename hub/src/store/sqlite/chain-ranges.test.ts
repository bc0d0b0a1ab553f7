import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, TEST_SECRET } from '../../../test/helpers.js';
import { openCrypto } from '../../crypto/index.js';
import { randomBytes } from 'node:crypto';
import { entryHash, GENESIS_HASH } from '../../audit/chain-text.js';
import { GOLDEN } from '../../audit/golden.js';
import type { AuditChainSource } from './audit.js';
import { Database } from './driver.js';
import { openSqliteStore, type SqliteHubStore } from './index.js';
import { createAuditLog } from '../../audit/audit-log.js';
import { threadsFor, walkRanges } from './chain-ranges.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const THREE = { minRowsPerThread: 1, maxThreads: 3 };

/** Nine entries (ranges 1-3, 4-6, 7-9 on three threads) with texts SQLite rebuilds exactly, plus a tampering connection. */
async function nineEntries() {
  const { dir, cleanup } = tempDir();
  const file = path.join(dir, 'sonde.db');
  const store = openSqliteStore(file);
  const crypto = await openCrypto(TEST_SECRET, store);
  const log = createAuditLog(store, crypto.auditKey, crypto.sealer, THREE);
  for (let i = 1; i <= 9; i++) {
    await log.append({
      action: 'mcp.tool_call',
      actor: { kind: 'api_key', id: 'k1', name: 'kéy "1"\n\u0001' },
      agents: ['web-1', 'db-2'],
      params: { path: `/data/${i}`, list: [1, 2.5, null, 'x\ty'] },
      status: 'ok',
      resultBytes: i,
      durationMs: i % 2 ? i : undefined,
      detail: i === 5 ? 'back\\slash \u2028' : null,
    });
  }
  const raw = new Database(file);
  cleanups.push(async () => {
    raw.close();
    await store.close();
    cleanup();
  });
  return { store, log, raw, key: crypto.auditKey, source: chainSourceOf(store) };
}

/** The SQLite store's chain source (the store interface does not name it). */
const chainSourceOf = (store: SqliteHubStore): AuditChainSource => store.chainSource;

describe('verifying the chain in ranges', () => {
  it('splits only when every thread gets enough rows', () => {
    expect(threadsFor(49_999)).toBe(1);
    expect(threadsFor(1_000_000, { maxThreads: 2 })).toBe(2);
    expect(threadsFor(120_000, { maxThreads: 4, minRowsPerThread: 50_000 })).toBe(2);
  });

  it('leaves a walk too small for workers, or of a database no other connection can open, to the caller', async () => {
    const { source, key } = await nineEntries();
    expect(await walkRanges(source, key, 1, 9, GENESIS_HASH, { minRowsPerThread: 10 })).toBeUndefined();

    const memory = openSqliteStore(':memory:');
    cleanups.push(() => memory.close());
    const crypto = await openCrypto(TEST_SECRET, memory);
    const log = createAuditLog(memory, crypto.auditKey, crypto.sealer, THREE);
    for (let i = 0; i < 4; i++) await log.append({ action: 'login', actor: { kind: 'user', id: 'u', name: 'ann' }, status: 'ok' });
    expect(await walkRanges(chainSourceOf(memory), crypto.auditKey, 1, 4, GENESIS_HASH, THREE)).toBeUndefined();
    expect(await log.verify({ full: true })).toMatchObject({ ok: true, checked: 4 });
  });

  it('has worker threads walk the ranges, each from the stored hash before it, and SQLite build the exact text', async () => {
    const { source, key } = await nineEntries();
    const ranges = (await walkRanges(source, key, 1, 9, GENESIS_HASH, THREE))!;
    // A worker that failed would hand its whole range back (resumeAt = from) instead of checking it.
    expect(ranges.map((r) => [r.from, r.to, r.checked, r.suspects.length, r.missing, r.resumeAt])).toEqual([
      [1, 3, 3, 0, undefined, undefined],
      [4, 6, 3, 0, undefined, undefined],
      [7, 9, 3, 0, undefined, undefined],
    ]);
    expect(ranges[2].lastHash).toBe(source.hashAt(9));
  });

  it('reports a row edited at a seam as a suspect the slow check then rejects', async () => {
    const { source, key, raw, log } = await nineEntries();
    raw.prepare("UPDATE audit_log SET status = 'denied' WHERE seq = 4").run();
    const ranges = (await walkRanges(source, key, 1, 9, GENESIS_HASH, THREE))!;
    expect(ranges[1].suspects.map(([seq]) => seq)).toEqual([4]);
    expect(await log.verify({ full: true })).toMatchObject({ ok: false, firstBrokenSeq: 4 });
  });

  it('finds a row deleted at the end of a range, at the start of the next, or inserted at a seam', async () => {
    const deleted = async (seq: number) => {
      const { raw, log } = await nineEntries();
      raw.prepare('DELETE FROM audit_log WHERE seq = ?').run(seq);
      return await log.verify({ full: true });
    };
    expect(await deleted(3)).toMatchObject({ ok: false, firstBrokenSeq: 3 });
    expect(await deleted(4)).toMatchObject({ ok: false, firstBrokenSeq: 4 });
    expect(await deleted(7)).toMatchObject({ ok: false, firstBrokenSeq: 7 });

    const { raw, log } = await nineEntries();
    // Make room after entry 6 and insert a copy of entry 6 with a plausible link: the copy's text has the wrong seq.
    raw.transaction(() => {
      for (let seq = 9; seq >= 7; seq--) raw.prepare('UPDATE audit_log SET seq = seq + 1 WHERE seq = ?').run(seq);
      raw
        .prepare(
          'INSERT INTO audit_log SELECT 7, at, action, actor_kind, actor_id, actor_name, client_id, tool, agents, probe, params, status, result_bytes, duration_ms, detail, hash, hash FROM audit_log WHERE seq = 6',
        )
        .run();
    })();
    expect(await log.verify({ full: true })).toMatchObject({ ok: false, firstBrokenSeq: 7 });
  });

  it('finds rows swapped across a seam and a truncated last range', async () => {
    const swapped = await nineEntries();
    swapped.raw.transaction(() => {
      swapped.raw.prepare('UPDATE audit_log SET seq = 100 WHERE seq = 3').run();
      swapped.raw.prepare('UPDATE audit_log SET seq = 3 WHERE seq = 4').run();
      swapped.raw.prepare('UPDATE audit_log SET seq = 4 WHERE seq = 100').run();
    })();
    expect(await swapped.log.verify({ full: true })).toMatchObject({ ok: false, firstBrokenSeq: 3 });

    const truncated = await nineEntries();
    truncated.raw.prepare('DELETE FROM audit_log WHERE seq >= 8').run();
    expect(await truncated.log.verify({ full: true })).toMatchObject({ ok: false, firstBrokenSeq: 8 });
  });

  it('still verifies rows whose stored text SQLite cannot rebuild, on a worker too', async () => {
    const { source, key, raw, log } = await nineEntries();
    // Params in insertion order, as an older version stored them: the same entry, a different text.
    raw.prepare('UPDATE audit_log SET params = ? WHERE seq = 5').run('{"path":"/data/5","list":[1,2.5,null,"x\\ty"]}');
    const ranges = (await walkRanges(source, key, 1, 9, GENESIS_HASH, THREE))!;
    expect(ranges[1].suspects.map(([seq]) => seq)).toEqual([5]);
    expect(await log.verify({ full: true })).toMatchObject({ ok: true, checked: 9, total: 9 });
  });

  it('rebuilds in SQL exactly the text of the golden vector from the stored columns', async () => {
    const memory = openSqliteStore(':memory:');
    cleanups.push(() => memory.close());
    const [first, second] = await memory.audit.append(
      [
        { ...GOLDEN.entry, at: GOLDEN.at },
        { ...GOLDEN.second.entry, at: GOLDEN.second.at },
      ],
      (entry, prevHash, seq) => entryHash(GOLDEN.key, prevHash, seq, entry.at, entry),
    );
    expect([first.hash, second.hash]).toEqual([GOLDEN.hash, GOLDEN.second.hash]);
    const [[seq, hash, text]] = [...chainSourceOf(memory).textRows(1, 1)];
    expect([seq, hash, text]).toEqual([1, GOLDEN.hash, GOLDEN.text]);
  });

  /** `n` entries appended in one call, chained with `key` (any length), in a file worker threads can open. */
  async function chainedWith(key: Buffer, n: number) {
    const { dir, cleanup } = tempDir();
    const store = openSqliteStore(path.join(dir, 'sonde.db'));
    const at = '2026-12-07T05:00:00.000Z';
    await store.audit.append(
      Array.from({ length: n }, (_, i) => ({
        ...GOLDEN.entry,
        at,
        params: { path: `/data/${i}`, text: 'é'.repeat(i % 7), line: i % 5 ? null : '\u2028' },
        detail: i % 3 ? null : `row ${i} ${'x'.repeat(i % 300)}`,
      })),
      (entry, prevHash, seq) => entryHash(key, prevHash, seq, entry.at, entry),
    );
    const raw = new Database(path.join(dir, 'sonde.db'));
    cleanups.push(async () => {
      raw.close();
      await store.close();
      cleanup();
    });
    return { store, raw, source: chainSourceOf(store) };
  }

  it('confirms every row with keys shorter than, as long as and longer than a SHA-256 block, and no row with another key', async () => {
    for (const length of [20, 64, 65]) {
      const key = randomBytes(length);
      const { source } = await chainedWith(key, 40);
      const ranges = (await walkRanges(source, key, 1, 40, GENESIS_HASH, { minRowsPerThread: 1, maxThreads: 2 }))!;
      expect(ranges.map((r) => [r.from, r.to, r.checked, r.suspects.length])).toEqual([
        [1, 20, 20, 0],
        [21, 40, 20, 0],
      ]);
      const other = (await walkRanges(source, randomBytes(length), 1, 40, GENESIS_HASH, { minRowsPerThread: 1, maxThreads: 2 }))!;
      expect(other.map((r) => [r.checked, r.suspects.length])).toEqual([
        [0, 20],
        [0, 20],
      ]);
    }
  });

  it('finds a row edited in the middle of a read window, by its seq, in either range', async () => {
    // Two ranges of 3,000 rows, each read in windows of 4,096 seqs: 1,234 and 4,321 sit inside a window, not at an edge.
    const two = { minRowsPerThread: 1, maxThreads: 2 };
    const { dir, cleanup } = tempDir();
    const file = path.join(dir, 'sonde.db');
    const store = openSqliteStore(file);
    const crypto = await openCrypto(TEST_SECRET, store);
    const log = createAuditLog(store, crypto.auditKey, crypto.sealer, two);
    await Promise.all(
      Array.from({ length: 6_000 }, (_, i) =>
        log.append({ ...GOLDEN.entry, params: { i, text: 'é'.repeat(i % 7) }, detail: i % 3 ? null : `row ${i}` }),
      ),
    );
    const raw = new Database(file);
    cleanups.push(async () => {
      raw.close();
      await store.close();
      cleanup();
    });
    const source = chainSourceOf(store);
    const intact = (await walkRanges(source, crypto.auditKey, 1, 6_000, GENESIS_HASH, two))!;
    expect(intact.map((r) => [r.from, r.to, r.checked, r.suspects.length, r.lastHash])).toEqual([
      [1, 3_000, 3_000, 0, source.hashAt(3_000)],
      [3_001, 6_000, 3_000, 0, source.hashAt(6_000)],
    ]);
    expect(await log.verify({ full: true })).toMatchObject({ ok: true, checked: 6_000 });

    raw.prepare("UPDATE audit_log SET status = 'denied' WHERE seq = 4321").run();
    expect(await log.verify({ full: true })).toMatchObject({ ok: false, firstBrokenSeq: 4_321 });
    raw.prepare("UPDATE audit_log SET detail = 'edited' WHERE seq = 1234").run();
    const edited = (await walkRanges(source, crypto.auditKey, 1, 6_000, GENESIS_HASH, two))!;
    expect(edited.map((r) => [r.checked, r.suspects])).toEqual([
      [2_999, [[1_234, source.hashAt(1_233)]]],
      [2_999, [[4_321, source.hashAt(4_320)]]],
    ]);
    expect(await log.verify({ full: true })).toMatchObject({ ok: false, firstBrokenSeq: 1_234 });
  });
});
