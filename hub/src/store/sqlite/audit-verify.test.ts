import path from 'node:path';
import { Database } from './driver.js';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, TEST_SECRET } from '../../../test/helpers.js';
import { openCrypto } from '../../crypto/index.js';
import { openSqliteStore } from './index.js';
import { createAuditLog } from '../../audit/audit-log.js';
import type { RangeTuning } from '../types.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/**
 * A log with `n` entries in a real file, plus a second connection for tampering like an attacker with file access.
 * `tuning` makes verify split even a tiny log into ranges walked by worker threads (seams between 2|3 and 4|5 for
 * three threads on five rows).
 */
async function logWithTuning(n: number, tuning?: RangeTuning) {
  const { dir, cleanup } = tempDir();
  const file = path.join(dir, 'sonde.db');
  const store = openSqliteStore(file);
  const crypto = await openCrypto(TEST_SECRET, store);
  const log = createAuditLog(store, crypto.auditKey, crypto.sealer, tuning);
  for (let i = 1; i <= n; i++) {
    await log.append({
      action: 'mcp.tool_call',
      actor: { kind: 'api_key', id: 'k1', name: 'key-1' },
      clientId: 'cursor',
      tool: 'probe',
      agents: ['web-1'],
      probe: 'system.disk.usage',
      params: { path: `/data/${i}`, nested: { n: i, list: [1, 2.5, null] } },
      status: 'ok',
      resultBytes: 100 + i,
      durationMs: 1.25 * i,
    });
  }
  const raw = new Database(file);
  cleanups.push(async () => {
    raw.close();
    await store.close();
    cleanup();
  });
  return { store, log, raw };
}

describe.each([
  { threads: 'on one thread', tuning: undefined },
  { threads: 'in ranges on worker threads', tuning: { minRowsPerThread: 1, maxThreads: 3 } },
])('audit log, verified $threads', ({ tuning }) => {
  const logWith = (n: number) => logWithTuning(n, tuning);

  it('appends a keyed hash chain that verifies', async () => {
    const { log, store } = await logWith(5);
    const rows = await store.audit.query({ limit: 10 });
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(rows[0].params).toEqual({ path: '/data/1', nested: { n: 1, list: [1, 2.5, null] } });
    expect(await log.verify({ full: true })).toMatchObject({ ok: true, checked: 5, total: 5, lastSeq: 5 });
  });

  it('detects a modified row', async () => {
    const { log, raw } = await logWith(5);
    raw.prepare("UPDATE audit_log SET status = 'denied' WHERE seq = 3").run();
    expect(await log.verify({ full: true })).toMatchObject({ ok: false, firstBrokenSeq: 3 });
  });

  it('detects a modified row even when the attacker recomputes a plain SHA-256 chain', async () => {
    const { log, raw } = await logWith(3);
    raw.prepare("UPDATE audit_log SET params = '{}', hash = 'f' || substr(hash, 2) WHERE seq = 2").run();
    expect(await log.verify({ full: true })).toMatchObject({ ok: false, firstBrokenSeq: 2 });
  });

  it('detects a deleted row in the middle', async () => {
    const { log, raw } = await logWith(5);
    raw.prepare('DELETE FROM audit_log WHERE seq = 2').run();
    expect(await log.verify({ full: true })).toMatchObject({ ok: false, firstBrokenSeq: 2 });
  });

  it('detects a deleted row renumbered to close the gap', async () => {
    const { log, raw } = await logWith(5);
    raw.prepare('DELETE FROM audit_log WHERE seq = 2').run();
    raw.prepare('UPDATE audit_log SET seq = seq - 1 WHERE seq > 2').run();
    expect(await log.verify({ full: true })).toMatchObject({ ok: false, firstBrokenSeq: 2 });
  });

  it('detects reordered rows', async () => {
    const { log, raw } = await logWith(5);
    raw.transaction(() => {
      raw.prepare('UPDATE audit_log SET seq = 100 WHERE seq = 2').run();
      raw.prepare('UPDATE audit_log SET seq = 2 WHERE seq = 3').run();
      raw.prepare('UPDATE audit_log SET seq = 3 WHERE seq = 100').run();
    })();
    expect(await log.verify({ full: true })).toMatchObject({ ok: false, firstBrokenSeq: 2 });
  });

  it('detects a truncated tail through the signed head', async () => {
    const { log, raw } = await logWith(5);
    raw.prepare('DELETE FROM audit_log WHERE seq >= 4').run();
    const result = await log.verify({ full: true });
    expect(result).toMatchObject({ ok: false, firstBrokenSeq: 4 });
    expect(result.reason).toMatch(/removed/);
  });

  it('verifies incrementally from a sealed checkpoint, walking only new rows', async () => {
    const { log } = await logWith(50);
    expect(await log.verify({ full: false })).toMatchObject({ ok: true, checked: 50, full: true });
    for (let i = 0; i < 3; i++) await log.append({ action: 'login', actor: { kind: 'user', id: 'u', name: 'ann' }, status: 'ok' });
    expect(await log.verify({ full: false })).toMatchObject({ ok: true, checked: 3, fromSeq: 51, lastSeq: 53, full: false });
    expect(await log.verify({ full: false })).toMatchObject({ ok: true, checked: 0 });
    expect(await log.verify({ full: true })).toMatchObject({ ok: true, checked: 53 });
  });

  it('incremental verify notices a change to the checkpointed row; full verify finds older tampering', async () => {
    const { log, raw } = await logWith(10);
    await log.verify();
    raw.prepare("UPDATE audit_log SET hash = 'x' || substr(hash, 2) WHERE seq = 10").run();
    expect(await log.verify({ full: false })).toMatchObject({ ok: false, firstBrokenSeq: 10 });
    raw.prepare("UPDATE audit_log SET detail = 'edited' WHERE seq = 4").run();
    expect(await log.verify({ full: true })).toMatchObject({ ok: false, firstBrokenSeq: 4 });
    // The default re-checks what the checkpoint covered instead of trusting it.
    expect(await log.verify()).toMatchObject({ ok: false, firstBrokenSeq: 4, full: true });
  });

  it('stores params in canonical order and still verifies rows stored the older way (params in insertion order)', async () => {
    const { log, raw } = await logWith(3);
    const stored = raw.prepare<[], { params: string }>('SELECT params FROM audit_log WHERE seq = 2').get()!.params;
    expect(stored).toBe('{"nested":{"list":[1,2.5,null],"n":2},"path":"/data/2"}');
    raw.prepare('UPDATE audit_log SET params = ? WHERE seq = 2').run('{"path":"/data/2","nested":{"n":2,"list":[1,2.5,null]}}');
    expect(await log.verify({ full: true })).toMatchObject({ ok: true, checked: 3 });
    raw.prepare('UPDATE audit_log SET params = ? WHERE seq = 2').run('{"path":"/data/X","nested":{"n":2,"list":[1,2.5,null]}}');
    expect(await log.verify({ full: true })).toMatchObject({ ok: false, firstBrokenSeq: 2 });
  });

  it('detects a forged head', async () => {
    const { log, raw } = await logWith(5);
    raw.prepare('DELETE FROM audit_log WHERE seq >= 4').run();
    const head = raw.prepare<[], { value: string }>("SELECT value FROM settings WHERE key = 'audit.head'").get()!.value;
    const [, , hash] = head.split(':');
    const third = raw.prepare<[], { hash: string }>('SELECT hash FROM audit_log WHERE seq = 3').get()!.hash;
    raw.prepare("UPDATE settings SET value = ? WHERE key = 'audit.head'").run(head.replace(`:5:${hash}:`, `:3:${third}:`));
    expect(await log.verify({ full: true })).toMatchObject({ ok: false });
  });

  it('an empty log verifies', async () => {
    const { log } = await logWith(0);
    expect(await log.verify()).toMatchObject({ ok: true, checked: 0, total: 0 });
  });
});
