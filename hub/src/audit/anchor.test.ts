import { createSecretKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditAnchor, MIN_WRITE_INTERVAL_MS } from './anchor.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function anchor(): AuditAnchor {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-anchor-'));
  dirs.push(dir);
  return new AuditAnchor(path.join(dir, 'sonde.db.audit-anchor'), createSecretKey(randomBytes(32)));
}

const mark = (seq: number) => ({ seq, hash: seq.toString(16).padStart(64, '0') });

describe('audit anchor writes', () => {
  it('coalesces a burst into few writes, ends at the newest mark, and never moves back', async () => {
    const a = anchor();
    let writes = 0;
    let lastIno = -1;
    const started = Date.now();
    for (let seq = 1; seq <= 200; seq++) {
      void a.advance(mark(seq));
      // Each write renames a new file over the anchor: a new inode is a new write.
      await new Promise((resolve) => setImmediate(resolve));
      try {
        const ino = statSync(a.file).ino;
        if (ino !== lastIno) {
          writes++;
          lastIno = ino;
        }
      } catch {
        // not written yet
      }
    }
    await a.settled();
    const elapsed = Date.now() - started;
    expect(await a.read()).toEqual({ kind: 'ok', ...mark(200) });
    // One write per interval at most (plus the first, at once): 200 marks are not 200 writes.
    expect(writes).toBeLessThanOrEqual(Math.ceil(elapsed / MIN_WRITE_INTERVAL_MS) + 2);
    expect(writes).toBeLessThan(200);

    // Another process moved it further: an older mark does not move it back.
    const ahead = readFileSync(a.file, 'utf8');
    const b = new AuditAnchor(a.file, (a as unknown as { key: ReturnType<typeof createSecretKey> }).key);
    writeFileSync(a.file, ahead);
    await b.advance(mark(150));
    await b.settled();
    expect(await b.read()).toEqual({ kind: 'ok', ...mark(200) });
  });

  it('writes each mark that arrives after a drain ended, and a mark awaited alone is on disk when its promise settles', async () => {
    const a = anchor();
    for (const seq of [1, 2, 3]) {
      // Apart by more than the interval: every drain starts, writes at once and ends before the next mark.
      await a.advance(mark(seq));
      expect(await a.read(), `mark ${seq}`).toEqual({ kind: 'ok', ...mark(seq) });
      await new Promise((resolve) => setTimeout(resolve, MIN_WRITE_INTERVAL_MS + 5));
    }
    // Two marks in one turn: the second, arriving while the first drain is under way, is written by it.
    const first = a.advance(mark(4));
    const second = a.advance(mark(5));
    await Promise.all([first, second]);
    await a.settled();
    expect(await a.read()).toEqual({ kind: 'ok', ...mark(5) });
  });
});
