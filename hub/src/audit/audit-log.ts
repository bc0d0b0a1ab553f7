import { AsyncLocalStorage } from 'node:async_hooks';
import { createSecretKey } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Sealer } from '../crypto/index.js';
import type { AuditEntryInput, AuditLog, AuditRecord } from '../services.js';
import type { AuditChainRow, HubStore, RangeTuning } from '../store/types.js';
import { AuditAnchor } from './anchor.js';
import { entryHash, GENESIS_HASH, hmacHex, slowRowHash, storedRowHash, wellFormedEntry, type MacKey } from './chain-text.js';
import { markRequestAudited } from './request-context.js';

const CHECKPOINT_SETTING = 'audit.checkpoint';
const HEAD_SETTING = 'audit.head';
/**
 * Retention (retention.ts): the last entry of the pruned prefix (seq and hash), authenticated with the audit key like
 * the head. Verify starts from it instead of the genesis hash; the archive files hold the entries before it.
 */
const BASE_SETTING = 'audit.base';

/**
 * The head (last seq and hash) as stored: authenticated with the audit key
 * (an HMAC costs a fraction of sealing it, and it is written on every append).
 * Heads sealed by earlier versions are still read.
 */
const HEAD_MAC_PREFIX = 'mac1:';
function headText(key: MacKey, setting: string, mark: Mark): string {
  const body = `${mark.seq}:${mark.hash}`;
  return `${HEAD_MAC_PREFIX}${body}:${hmacHex(key, `${setting}\n${body}`)}`;
}
function readHeadText(key: MacKey, setting: string, text: string): Mark {
  const parts = text.slice(HEAD_MAC_PREFIX.length).split(':');
  if (parts.length !== 3) return { seq: -1, hash: 'unreadable' };
  const [seqText, hash, mac] = parts as [string, string, string];
  const body = `${seqText}:${hash}`;
  const expected = hmacHex(key, `${setting}\n${body}`);
  const seq = Number(seqText);
  if (mac !== expected || !Number.isSafeInteger(seq)) return { seq: -1, hash: 'unreadable' };
  return { seq, hash };
}

export interface VerifyResult {
  ok: boolean;
  /** Entries checked in this run. */
  checked: number;
  /** Entries in the log (from a checkpoint: the last entry's seq, the same number while the chain is intact). */
  total: number;
  /** Seq the walk started from (1 for a full verify). */
  fromSeq: number;
  lastSeq: number;
  /** First entry that does not verify: modified, missing (a gap or a truncated tail) or out of order. */
  firstBrokenSeq?: number;
  reason?: string;
  full: boolean;
  durationMs: number;
  /**
   * The entry the anchor outside the database named when verify started (the database must still hold it unchanged),
   * or null without an anchor file (a new data folder, an in-memory database).
   */
  anchoredSeq: number | null;
}

interface Mark {
  seq: number;
  hash: string;
}

/** How far a verification got: entries checked, the last intact entry, and what broke, if anything. */
interface Walk {
  checked: number;
  lastSeq: number;
  lastHash: string;
  broken?: { firstBrokenSeq: number; reason: string };
}

const missingReason = (seq: number, next?: number): string =>
  next === undefined ? `entry ${seq} is missing` : `entry ${seq} is missing (next entry is ${next})`;
const modifiedReason = (seq: number): string => `entry ${seq} was modified, reordered or an earlier entry removed`;

/** How far a running verify got (`checked` of about `total` entries to check). */
export interface VerifyProgress {
  checked: number;
  total: number;
}

export interface VerifyOptions {
  /**
   * Default true: every entry is checked again, so an edit anywhere is found. `false` walks only the entries after
   * the last verified checkpoint (fast, for frequent runs): it checks that the checkpointed entry is still in place,
   * but an edit to an older entry is found only by a full verify.
   */
  full?: boolean;
  /**
   * Called every few thousand entries (from worker threads too, while they walk their ranges) and once at the end;
   * `checked` never goes down.
   */
  onProgress?: (progress: VerifyProgress) => void;
  /**
   * Cancels the verify: the walk on this thread stops at its next turn, worker threads are terminated at once, and
   * the Promise rejects with the signal's reason (nothing is recorded: no checkpoint, no anchor move).
   */
  signal?: AbortSignal;
}

/** The reason a verify was cancelled (`VerifyOptions.signal`): `by` names who cancelled it, `actor` for its audit entry. */
export class VerifyCancelledError extends Error {
  constructor(
    readonly by: string,
    readonly actor: AuditEntryInput['actor'],
  ) {
    super(`verify cancelled by ${by}`);
    this.name = 'VerifyCancelledError';
  }
}

export interface HubAuditLog extends AuditLog {
  verify(options?: VerifyOptions): Promise<VerifyResult>;
  /** Entries waiting for their group commit (metrics, readiness). */
  queueDepth(): number;
  /** The anchor file outside the database, if this log keeps one. */
  readonly anchorFile: string | undefined;
  /** Waits for anchor writes in flight. */
  settled(): Promise<void>;
  /**
   * Retention: writes entries `fromSeq..throughSeq` (the oldest left, checked link by link on the way) to `archive`,
   * then in one transaction records entry `throughSeq` as the chain's new base and deletes the entries up to it.
   * Refuses (nothing deleted) when a row does not verify or another process pruned meanwhile.
   */
  pruneThrough(throughSeq: number, archive: ArchiveWriter): Promise<PruneResult | undefined>;
  /** The base recorded by the last prune ({ seq: 0, genesis } when nothing was pruned). */
  base(): Promise<{ seq: number; hash: string }>;
  /**
   * Calls `listener` with the last seq of each group commit, after it committed (the audit export wakes on it; an
   * entry appended inside a caller's transaction is not announced, the export's poll finds it). Returns an unsubscribe.
   */
  onCommit(listener: (lastSeq: number) => void): () => void;
}

/** Where pruned entries go: opened with the first entry's link, given each row in order, then closed (or aborted). */
export interface ArchiveWriter {
  open(header: { fromSeq: number; prevHash: string }): Promise<void>;
  row(row: AuditChainRow): Promise<void>;
  /** The archive is complete and durable; returns where it is. */
  close(footer: { toSeq: number; lastHash: string; count: number }): Promise<{ file: string; bytes: number }>;
  abort(): Promise<void>;
}

export interface PruneResult {
  fromSeq: number;
  toSeq: number;
  entries: number;
  file: string;
  bytes: number;
}

/**
 * A walk on this thread (PostgreSQL's whole verify, SQLite's below MIN_ROWS_PER_WORKER and any suspects) gives the
 * event loop back after at most TURN_MS of its own time or ROWS_PER_TURN rows, whichever comes first: a request
 * waits at most about one turn behind a verify, on a loaded host too (a fixed 2,000 rows held it ~0.5 s there).
 */
const TURN_MS = 8;
const ROWS_PER_TURN = 500;
/** How often (rows) the clock is read within a turn. */
const CLOCK_EVERY = 16;
/** Entries committed in one transaction at most (a burst larger than this takes several). */
const MAX_BATCH = 1_000;

/** Paces a walk: `due()` after each row, then `next()` (yields a turn; throws once `signal` is aborted). */
function turnKeeper(signal?: AbortSignal): { due(): boolean; next(): Promise<void> } {
  let rows = 0;
  let started = performance.now();
  return {
    due: () => ++rows >= ROWS_PER_TURN || (rows % CLOCK_EVERY === 0 && performance.now() - started >= TURN_MS),
    async next() {
      await nextTurn();
      signal?.throwIfAborted();
      rows = 0;
      started = performance.now();
    },
  };
}

interface PendingAppend {
  entry: AuditEntryInput & { at: string };
  resolve: (record: AuditRecord) => void;
  reject: (error: unknown) => void;
}

/**
 * The append-only, keyed hash chain. Appends are group-committed: the entries
 * that arrive during one turn of the event loop (and while a commit runs) go
 * into one transaction with one head update, and each caller's Promise
 * resolves once that transaction has committed. Verification is incremental:
 * a sealed checkpoint records the last verified seq and hash, so a routine
 * verify walks only new rows; `full` walks everything. It reads rows through
 * the store interface in pages and yields to the event loop between them.
 */
export function createAuditLog(
  store: Pick<HubStore, 'audit' | 'settings' | 'transaction'>,
  key: Buffer,
  sealer: Sealer,
  tuning: RangeTuning = {},
  anchorFile?: string,
): HubAuditLog {
  const macKey = createSecretKey(key);
  const anchor = anchorFile ? new AuditAnchor(anchorFile, macKey) : undefined;
  // A failed anchor write (disk full) leaves the anchor behind: verify then checks an older entry, never a wrong one.
  const advanceAnchor = (mark: Mark): void => void anchor?.advance(mark).catch(() => undefined);
  const readMark = async (setting: string): Promise<Mark | undefined> => {
    const sealed = await store.settings.get(setting);
    if (!sealed) return undefined;
    if (sealed.startsWith(HEAD_MAC_PREFIX)) return readHeadText(macKey, setting, sealed);
    try {
      return JSON.parse(sealer.openText(sealed, setting)) as Mark;
    } catch {
      return { seq: -1, hash: 'unreadable' };
    }
  };
  const writeMark = (setting: string, mark: Mark): Promise<void> => store.settings.set(setting, sealer.seal(JSON.stringify(mark), setting));

  const chain = (entry: AuditEntryInput & { at: string }, prevHash: string, seq: number): string =>
    entryHash(macKey, prevHash, seq, entry.at, entry);

  let queue: PendingAppend[] = [];
  let flushing = false;
  const commitListeners = new Set<(lastSeq: number) => void>();
  // The flush runs in the context the log was created in, not in the caller's: an append made inside a transaction's
  // callback must not make the whole batch look like part of that transaction.
  const outsideCallers = AsyncLocalStorage.snapshot();

  /** Appends in `tx` and moves the head with them. */
  const write = async (tx: HubStore, entries: (AuditEntryInput & { at: string })[]): Promise<AuditRecord[]> => {
    const written = await tx.audit.append(entries, chain);
    const last = written[written.length - 1];
    await tx.settings.set(HEAD_SETTING, headText(macKey, HEAD_SETTING, { seq: last.seq, hash: last.hash }));
    return written;
  };

  /** Commits what is queued, batch after batch, until the queue is empty. */
  const flush = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue.length <= MAX_BATCH ? queue : queue.slice(0, MAX_BATCH);
      queue = queue.length <= MAX_BATCH ? [] : queue.slice(MAX_BATCH);
      try {
        const records = await store.transaction((tx) =>
          write(
            tx,
            batch.map((pending) => pending.entry),
          ),
        );
        const last = records[records.length - 1];
        // Committed: the anchor may name it now (an append inside a caller's transaction waits for the next flush or verify).
        advanceAnchor({ seq: last.seq, hash: last.hash });
        for (let i = 0; i < batch.length; i++) batch[i].resolve(records[i]);
        for (const listener of commitListeners) listener(last.seq);
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
    flushing = false;
  };

  /** A stored row's hash checked against its text built here, then against its parsed values (older rows). */
  const rowIntact = (prevHash: string, row: AuditChainRow): boolean =>
    storedRowHash(macKey, prevHash, row) === row[15] || slowRowHash(macKey, prevHash, row) === row[15];

  /** Walks entries after `from.lastSeq` (to `to`, else to the end) over the store's chain rows. */
  const walkRows = async (
    from: Walk,
    to: number | undefined,
    progress: (checked: number) => void,
    signal: AbortSignal | undefined,
  ): Promise<Walk> => {
    const walk = { ...from };
    const broken = (seq: number, reason: string): Walk => ({ ...walk, broken: { firstBrokenSeq: seq, reason } });
    const turn = turnKeeper(signal);
    for await (const row of store.audit.chainRows(walk.lastSeq + 1, to)) {
      const seq = row[0];
      if (seq !== walk.lastSeq + 1) return broken(walk.lastSeq + 1, missingReason(walk.lastSeq + 1, seq));
      if (!rowIntact(walk.lastHash, row)) return broken(seq, modifiedReason(seq));
      walk.lastHash = row[15];
      walk.lastSeq = seq;
      walk.checked += 1;
      if (turn.due()) {
        progress(walk.checked);
        await turn.next();
      }
    }
    return to !== undefined && walk.lastSeq < to ? broken(walk.lastSeq + 1, missingReason(walk.lastSeq + 1)) : walk;
  };

  /** The row-at-a-time check of one entry the ranged check could not confirm. */
  const suspectIntact = async (seq: number, prevHash: string): Promise<boolean> => {
    for await (const row of store.audit.chainRows(seq, seq)) return row[0] === seq && rowIntact(prevHash, row);
    return false;
  };

  /**
   * Walks entries after `from.lastSeq` up to `to`: in ranges side by side when the store offers it (SQLite: worker
   * threads), otherwise row by row here.
   */
  const walkChain = async (from: Walk, to: number, progress: (checked: number) => void, signal: AbortSignal | undefined): Promise<Walk> => {
    if (to <= from.lastSeq) return from;
    const ranges = await store.audit.checkRanges?.(
      key,
      from.lastSeq + 1,
      to,
      from.lastHash,
      tuning,
      (walked) => progress(from.checked + walked),
      signal,
    );
    if (!ranges) return walkRows(from, undefined, progress, signal);
    let walk = { ...from };
    for (const range of ranges) {
      for (const [seq, prevHash] of range.suspects) {
        signal?.throwIfAborted();
        if (!(await suspectIntact(seq, prevHash)))
          return { ...walk, lastSeq: seq - 1, broken: { firstBrokenSeq: seq, reason: modifiedReason(seq) } };
        walk.checked += 1;
      }
      walk.checked += range.checked;
      if (range.resumeAt !== undefined) {
        walk = await walkRows({ ...walk, lastSeq: range.resumeAt - 1, lastHash: range.resumePrevHash! }, range.to, progress, signal);
        if (walk.broken) return walk;
        continue;
      }
      if (range.missing) {
        const { seq, next } = range.missing;
        return { ...walk, lastSeq: seq - 1, broken: { firstBrokenSeq: seq, reason: missingReason(seq, next) } };
      }
      walk.lastSeq = range.to;
      walk.lastHash = range.lastHash;
      progress(walk.checked);
    }
    return walk;
  };

  return {
    queueDepth: () => queue.length,
    anchorFile,
    onCommit(listener) {
      commitListeners.add(listener);
      return () => commitListeners.delete(listener);
    },
    settled: async () => anchor?.settled(),

    async append(entry: AuditEntryInput, tx?: HubStore): Promise<AuditRecord> {
      markRequestAudited();
      const stamped = { ...wellFormedEntry(entry), at: new Date().toISOString() };
      if (tx) return (await write(tx, [stamped]))[0];
      return new Promise((resolve, reject) => {
        queue.push({ entry: stamped, resolve, reject });
        if (flushing) return;
        flushing = true;
        // One turn of the event loop gathers the appends of every request it serves into one commit.
        setImmediate(() => outsideCallers(() => void flush()));
      });
    },

    async base() {
      const base = (await readMark(BASE_SETTING)) ?? { seq: 0, hash: GENESIS_HASH };
      if (base.seq < 0) throw new Error('the retention checkpoint (audit.base) does not verify');
      return base;
    },

    async pruneThrough(throughSeq, archive) {
      const base = await this.base();
      if (throughSeq <= base.seq) return undefined;
      // The newest entry always stays: the next append links to the last row in the table.
      const newest = (await store.audit.last())?.seq ?? 0;
      if (throughSeq >= newest) throw new Error(`entry ${newest} is the newest and stays; prune through ${newest - 1} at most`);
      await archive.open({ fromSeq: base.seq + 1, prevHash: base.hash });
      let walk: Walk = { checked: 0, lastSeq: base.seq, lastHash: base.hash };
      try {
        const turn = turnKeeper();
        for await (const row of store.audit.chainRows(base.seq + 1, throughSeq)) {
          if (row[0] !== walk.lastSeq + 1) throw new Error(`${missingReason(walk.lastSeq + 1, row[0])}; nothing pruned`);
          if (!rowIntact(walk.lastHash, row)) throw new Error(`${modifiedReason(row[0])}; nothing pruned`);
          await archive.row(row);
          walk = { checked: walk.checked + 1, lastSeq: row[0], lastHash: row[15] };
          if (turn.due()) await turn.next();
        }
        if (walk.lastSeq !== throughSeq) throw new Error(`${missingReason(walk.lastSeq + 1)}; nothing pruned`);
      } catch (error) {
        await archive.abort();
        throw error;
      }
      // Durable before a single row goes: a crash from here on leaves an archive whose entries are still in the database.
      const written = await archive.close({ toSeq: walk.lastSeq, lastHash: walk.lastHash, count: walk.checked });
      const mark = { seq: walk.lastSeq, hash: walk.lastHash };
      await store.transaction(async (tx) => {
        const now = await tx.settings.get(BASE_SETTING);
        const current = now ? readHeadText(macKey, BASE_SETTING, now) : { seq: 0, hash: GENESIS_HASH };
        if (current.seq !== base.seq || current.hash !== base.hash) throw new Error('another process pruned the audit log meanwhile');
        await tx.settings.set(BASE_SETTING, headText(macKey, BASE_SETTING, mark));
        await tx.audit.pruneThrough(mark.seq);
      });
      return { fromSeq: base.seq + 1, toSeq: mark.seq, entries: walk.checked, ...written };
    },

    async verify(options = {}) {
      const { signal } = options;
      signal?.throwIfAborted();
      const started = performance.now();
      const base = (await readMark(BASE_SETTING)) ?? { seq: 0, hash: GENESIS_HASH };
      const stored = options.full === false ? await readMark(CHECKPOINT_SETTING) : undefined;
      // A checkpoint inside the pruned prefix says nothing more than the base.
      const checkpoint = stored && stored.seq > base.seq ? stored : undefined;
      const anchored = anchor ? await anchor.read() : undefined;
      const head = await readMark(HEAD_SETTING);
      const lastEntry = await store.audit.last();
      let walk: Walk = { checked: 0, lastSeq: Math.max(0, base.seq), lastHash: base.hash };
      const result = async (fields: Partial<VerifyResult>): Promise<VerifyResult> => ({
        ok: fields.firstBrokenSeq === undefined && fields.reason === undefined,
        checked: walk.checked,
        // COUNT(*) reads the whole table (~0.3 s at 1M rows): an intact walk from entry 1 has seen every entry, and
        // one from a checkpoint reports the last seq (the same number while the chain is intact); only a broken full
        // verify counts.
        total: checkpoint ? (lastEntry?.seq ?? 0) : walk.broken ? await store.audit.count() : walk.lastSeq,
        fromSeq: checkpoint ? checkpoint.seq + 1 : Math.max(0, base.seq) + 1,
        lastSeq: walk.lastSeq,
        full: !checkpoint,
        durationMs: Math.round(performance.now() - started),
        anchoredSeq: anchored?.kind === 'ok' ? anchored.seq : null,
        ...fields,
      });

      if (base.seq < 0) return result({ firstBrokenSeq: 1, reason: 'the retention checkpoint (audit.base) was altered' });
      if (checkpoint && checkpoint.seq > 0) {
        // The checkpointed entry must still be there, unchanged in place.
        let row: AuditChainRow | undefined;
        for await (const found of store.audit.chainRows(checkpoint.seq, checkpoint.seq)) row = found;
        if (!row || row[0] !== checkpoint.seq || row[15] !== checkpoint.hash) {
          return result({ firstBrokenSeq: checkpoint.seq, reason: 'the last verified entry was changed or removed; run a full verify' });
        }
        walk = { checked: 0, lastSeq: checkpoint.seq, lastHash: checkpoint.hash };
      }

      const to = lastEntry?.seq ?? 0;
      const total = Math.max(0, to - walk.lastSeq);
      let reported = 0;
      const progress = (checked: number): void => {
        reported = Math.max(reported, Math.min(checked, total));
        options.onProgress?.({ checked: reported, total });
      };
      progress(0);
      walk = await walkChain(walk, to, progress, signal);
      if (walk.broken) return result(walk.broken);
      progress(walk.checked);
      const { lastSeq, lastHash } = walk;
      if (head && (head.seq > lastSeq || (head.seq === lastSeq && head.hash !== lastHash) || head.seq < 0)) {
        return result({
          firstBrokenSeq: Math.min(lastSeq + 1, Math.max(head.seq, 1)),
          reason: `entries after ${lastSeq} were removed (the log head was ${head.seq})`,
        });
      }
      if (!head && lastSeq > 0) return result({ firstBrokenSeq: 1, reason: 'the signed log head is missing' });
      if (anchored?.kind === 'altered') {
        return result({ firstBrokenSeq: lastSeq + 1, reason: `the audit anchor ${anchor!.file} was altered (its MAC does not verify)` });
      }
      if (anchored?.kind === 'ok') {
        if (anchored.seq > lastSeq) {
          return result({
            firstBrokenSeq: lastSeq + 1,
            reason: `entries after ${lastSeq} were removed: the anchor outside the database records entry ${anchored.seq} (the database was rolled back)`,
          });
        }
        // An anchored entry inside the pruned prefix is in an archive; the base is the one to compare then.
        let hashThere: string | undefined = anchored.seq === base.seq ? base.hash : undefined;
        if (anchored.seq > base.seq) for await (const found of store.audit.chainRows(anchored.seq, anchored.seq)) hashThere = found[15];
        if (anchored.seq > 0 && anchored.seq >= base.seq && hashThere !== anchored.hash) {
          return result({
            firstBrokenSeq: anchored.seq,
            reason: `entry ${anchored.seq} is not the one the anchor outside the database records (the log was rolled back and rewritten)`,
          });
        }
      }
      if (lastSeq > 0) await writeMark(CHECKPOINT_SETTING, { seq: lastSeq, hash: lastHash });
      if (anchor && lastSeq > 0) await anchor.advance({ seq: lastSeq, hash: lastHash }).catch(() => undefined);
      return result({});
    },
  };
}
