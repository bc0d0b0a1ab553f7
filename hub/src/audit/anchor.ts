import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { hmacHex, type MacKey } from './chain-text.js';

/**
 * The audit head kept outside the database: a small file beside it
 * (`<SONDE_DB_PATH>.audit-anchor`) with the seq and hash of the newest
 * committed entry, authenticated with the audit key. The head stored in the
 * database cannot prove that no rows were removed from its end: whoever holds
 * the database can put back an older head together with the rows it covered
 * (or the whole file of last week), and the chain would be intact. The anchor
 * only moves forward, and verify requires the database to still hold the
 * anchored entry unchanged, so such a rollback is reported.
 *
 * Against whom: someone who can change the database (a copy restored over it, a
 * database administrator, a tool with the file) but not the hub's data folder
 * as a whole. Someone who can also roll back this file, or who holds
 * SONDE_SECRET, is not stopped by it; exported heads (the audit export) are the
 * witness against them.
 *
 * Written after the entries it names have committed (never before), by a write
 * to a temporary name and a rename, without fsync: a crash leaves it behind the
 * database, never ahead, except after a power loss that also lost the newest
 * commits (then verify reports exactly those as missing).
 *
 * The writes are synchronous system calls: a read, a write and a rename of a
 * 120-byte file beside the SQLite database, which the hub already writes
 * synchronously on the same thread. Through `fs/promises` the same three cost
 * about three times the CPU (file handles and thread-pool round trips: ~0.5 ms
 * against ~0.15 ms a write, measured), at up to 20 writes a second.
 */
export interface AnchorMark {
  seq: number;
  hash: string;
}

export type AnchorState = { kind: 'missing' } | { kind: 'altered' } | ({ kind: 'ok' } & AnchorMark);

const VERSION = 'sonde-audit-anchor/1';
/** Anchor writes are at most this often (advance). */
export const MIN_WRITE_INTERVAL_MS = 50;

export function anchorFileFor(dbPath: string): string | undefined {
  // A database URL (PostgreSQL, shared by several hubs) has no folder beside it, and one hub's file would see only
  // its own appends: no anchor there (ARCHITECTURE.md, PostgreSQL store).
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dbPath)) return undefined;
  return dbPath === ':memory:' || dbPath === '' ? undefined : `${dbPath}.audit-anchor`;
}

export class AuditAnchor {
  private written = 0;
  private pending: AnchorMark | undefined;
  private writing: Promise<void> | undefined;
  private lastWriteAt = 0;

  constructor(
    readonly file: string,
    private readonly key: MacKey,
  ) {}

  private mac(mark: AnchorMark): string {
    return hmacHex(this.key, `audit.anchor\n${mark.seq}:${mark.hash}`);
  }

  async read(): Promise<AnchorState> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
      throw error;
    }
    return this.parse(text);
  }

  /** read(), by synchronous calls: the write path's check that no other process moved the anchor further. */
  private readNow(): AnchorState {
    try {
      return this.parse(readFileSync(this.file, 'utf8'));
    } catch {
      return { kind: 'missing' };
    }
  }

  private parse(text: string): AnchorState {
    const [version, seqText, hash, mac] = text.trim().split(' ');
    const seq = Number(seqText);
    if (version !== VERSION || !Number.isSafeInteger(seq) || !hash || mac !== this.mac({ seq, hash })) return { kind: 'altered' };
    return { kind: 'ok', seq, hash };
  }

  /**
   * Moves the anchor to `mark` (committed) unless it is there or further already. Writes are coalesced: at most one
   * every `MIN_WRITE_INTERVAL_MS`, carrying the newest mark that arrived meanwhile. Each write is a read, a write and a
   * rename through the thread pool, which cost the hub more CPU than the rest of an audit append when every MCP call
   * wrote it; the anchor then trails the database by that interval at most, never leads it.
   */
  advance(mark: AnchorMark): Promise<void> {
    if (mark.seq <= this.written || (this.pending && mark.seq <= this.pending.seq)) return this.writing ?? Promise.resolve();
    this.pending = mark;
    this.writing ??= this.drain();
    return this.writing;
  }

  /** Writes until nothing is pending, each write at least `MIN_WRITE_INTERVAL_MS` after the one before. */
  private async drain(): Promise<void> {
    // One turn first: advance() must have stored this promise in `writing` before the `finally` below can clear it
    // (the writes are synchronous, so a drain with nothing to wait for would otherwise end inside advance()).
    await Promise.resolve();
    try {
      while (this.pending) {
        // Also between writes of one drain: marks arriving while a write is under way wait for the interval too.
        const wait = this.lastWriteAt + MIN_WRITE_INTERVAL_MS - Date.now();
        if (wait > 0) await delay(wait);
        const mark = this.pending;
        if (!mark) break;
        this.pending = undefined;
        this.lastWriteAt = Date.now();
        // Another process (the CLI beside the server) may have moved it further: never move it back.
        const current = this.readNow();
        if (current.kind === 'ok' && current.seq >= mark.seq) {
          this.written = Math.max(this.written, current.seq);
          continue;
        }
        const partial = `${this.file}.${process.pid}.partial`;
        writeFileSync(partial, `${VERSION} ${mark.seq} ${mark.hash} ${this.mac(mark)}\n`, { mode: 0o600 });
        renameSync(partial, this.file);
        this.written = mark.seq;
      }
    } finally {
      this.writing = undefined;
    }
  }

  /** Waits for writes in flight (close, tests). */
  async settled(): Promise<void> {
    while (this.writing) await this.writing.catch(() => undefined);
  }
}
