import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import type { AuditChainSource } from './audit.js';

/**
 * Verifying the chain in ranges, side by side. Each row's check needs only its
 * own columns and the stored hash of the row before it, so a range starting at
 * `from` is verified from the stored hash of `from - 1`: the seams are checked
 * like any other link. Worker threads walk the ranges on their own read-only
 * connections while the event loop keeps serving (the caller awaits them).
 */

export type { ChainRangeResult as RangeResult, RangeTuning } from '../types.js';
import type { ChainRangeResult as RangeResult, RangeTuning } from '../types.js';

/** Below this many rows per thread a worker costs more (start-up, its own connection) than it saves. */
export const MIN_ROWS_PER_WORKER = 50_000;
/** A log of rows stored the older way is all suspects: past this many, walk the rest the slow way at once. */
const MAX_SUSPECTS = 1_000;
/** A worker that has not answered by then (it should take seconds) has its range walked here instead. */
const WORKER_TIMEOUT_MS = 10 * 60_000;
/** A worker reports how many rows it has walked every this many rows (verify progress). */
export const PROGRESS_ROWS = 20_000;

/**
 * The worker, as plain JavaScript run with `eval`, so it starts the same way
 * from hub/dist and from the TypeScript sources under vitest (a worker file
 * would be .ts there). It checks each row against the text SQLite builds;
 * rows that text cannot confirm go back as suspects for the slow check.
 */
const WORKER_SOURCE = `
const { createHmac, hash } = require('node:crypto');
const { workerData, parentPort } = require('node:worker_threads');
const { driverModule, file, sql, from, to, maxSuspects, progressRows } = workerData;
const WINDOW = 4096;
let prevHash = workerData.prevHash;
let answer;

/**
 * HMAC-SHA256 (RFC 2104) from the key's two padded blocks and two one-shot hashes: H(opad || H(ipad || message)).
 * createHmac costs a JS object and OpenSSL 3.0's HMAC_Init_ex (three digest fetches and the key's two blocks) per
 * call, more than the hashing itself; crypto.hash (Node 20.12+) hashes with a cached digest and no object.
 * The message (prevHash, "\\n", the row's text) is written into one buffer after the inner pad, so nothing per row
 * is built but the two digests. Checked against createHmac before the walk starts.
 */
function paddedHmac(rawKey) {
  const BLOCK = 64;
  const block = Buffer.alloc(BLOCK);
  (rawKey.length > BLOCK ? hash('sha256', rawKey, 'buffer') : rawKey).copy(block);
  let inner = Buffer.allocUnsafe(BLOCK + 64 * 1024);
  for (let i = 0; i < BLOCK; i++) inner[i] = block[i] ^ 0x36;
  const outer = Buffer.allocUnsafe(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) outer[i] = block[i] ^ 0x5c;
  block.fill(0);
  // Views of inner by length: a row's text takes one of few lengths, so most rows reuse a view instead of allocating one.
  let views = [];
  return (prev, text) => {
    // Room for both at up to 3 UTF-8 bytes per UTF-16 unit (prev is the stored hash: hex, unless edited).
    const room = BLOCK + (prev.length + 1 + text.length) * 3;
    if (room > inner.length) {
      const larger = Buffer.allocUnsafe(room * 2);
      inner.copy(larger, 0, 0, BLOCK);
      inner = larger;
      views = [];
    }
    let length = BLOCK + inner.utf8Write(prev, BLOCK);
    inner[length++] = 10;
    length += inner.utf8Write(text, length);
    const view = views[length] || (views[length] = inner.subarray(0, length));
    // The inner digest as a latin1 string (one byte a char) costs less than a Buffer, and latin1Write copies it back as is.
    outer.latin1Write(hash('sha256', view, 'latin1'), BLOCK);
    return hash('sha256', outer, 'hex');
  };
}

try {
  const hmacHex = paddedHmac(Buffer.from(workerData.key));
  // A known answer before the walk: a wrong HMAC here would make every row a suspect, never a wrong verdict, but slowly.
  const probe = ['0'.repeat(64), '{"probe":"\\u00e9\\u2028"}'];
  const expected = createHmac('sha256', Buffer.from(workerData.key)).update(probe[0] + '\\n' + probe[1]).digest('hex');
  if (hmacHex(probe[0], probe[1]) !== expected)
    throw new Error('the padded HMAC does not match createHmac');
  const Database = require(driverModule);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const result = { from, to, checked: 0, suspects: [], lastHash: prevHash };
    let expect = from;
    // Windows of seqs read with .all(): one call into SQLite per window rather than one per row (iterate), about
    // 10 % less CPU a row (bench/audit-verify-row-cost.mjs).
    const statement = db.prepare(sql).raw();
    walk: for (let low = from; low <= to; low += WINDOW) {
      const rows = statement.all(low, Math.min(to, low + WINDOW - 1));
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i];
        const seq = row[0];
        const hash = row[1];
        const text = row[2];
        if (seq !== expect) {
          result.missing = { seq: expect, next: seq };
          break walk;
        }
        if (text === null || hmacHex(prevHash, text) !== hash) {
          if (result.suspects.length === maxSuspects) {
            result.resumeAt = seq;
            result.resumePrevHash = prevHash;
            break walk;
          }
          result.suspects.push([seq, prevHash]);
        } else {
          result.checked += 1;
        }
        prevHash = hash;
        result.lastHash = hash;
        expect += 1;
        if ((expect - from) % progressRows === 0) parentPort.postMessage({ walked: expect - from });
      }
    }
    if (!result.missing && result.resumeAt === undefined && expect <= to) result.missing = { seq: expect };
    answer = { result };
  } finally {
    db.close();
  }
} catch (error) {
  answer = { error: String((error && error.stack) || error) };
}
parentPort.postMessage(answer);
`;

interface RunningWorker {
  from: number;
  to: number;
  prevHash: string;
  worker: Worker;
  answer: Promise<{ result?: RangeResult; error?: string } | undefined>;
}

type WorkerMessage = { walked: number } | { result?: RangeResult; error?: string };

function startWorker(
  source: AuditChainSource,
  file: string,
  key: Buffer,
  from: number,
  to: number,
  prevHash: string,
  onWalked: (walked: number) => void,
): RunningWorker {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driverModule: source.driverModule(),
      file,
      sql: source.textSql,
      key,
      from,
      to,
      prevHash,
      maxSuspects: MAX_SUSPECTS,
      progressRows: PROGRESS_ROWS,
    },
  });
  const timeout = AbortSignal.timeout(WORKER_TIMEOUT_MS);
  // Progress messages (`walked`) until the one answer.
  const answered = new Promise<{ result?: RangeResult; error?: string }>((resolve, reject) => {
    const onMessage = (message: WorkerMessage): void => {
      if ('walked' in message) return onWalked(message.walked);
      worker.off('message', onMessage);
      resolve(message);
    };
    worker.on('message', onMessage);
    timeout.addEventListener('abort', () => reject(new Error('the verify worker did not answer in time')), { once: true });
  });
  const answer = Promise.race([answered, once(worker, 'error').then(() => undefined), once(worker, 'exit').then(() => undefined)]).catch(
    () => undefined,
  );
  return { from, to, prevHash, worker, answer };
}

/** The worker's answer; if it failed or never answered, the whole range is left to the slow walk. */
async function finish(running: RunningWorker): Promise<RangeResult> {
  const { from, to, prevHash, worker } = running;
  const message = await running.answer;
  void worker.terminate();
  return message?.result ?? { from, to, checked: 0, suspects: [], resumeAt: from, resumePrevHash: prevHash, lastHash: prevHash };
}

/** How many threads to use for `rows` rows: none with fewer than `minRowsPerThread` each, by default at most the cores (and 4). */
export function threadsFor(rows: number, tuning: RangeTuning = {}): number {
  const maxThreads = tuning.maxThreads ?? Math.min(availableParallelism(), 4);
  return Math.max(1, Math.min(maxThreads, Math.floor(rows / (tuning.minRowsPerThread ?? MIN_ROWS_PER_WORKER))));
}

/**
 * Walks `from..to` (which must exist) in ranges on worker threads, in order,
 * while this thread serves other work; undefined when there are too few rows for a worker
 * to pay off (or no file another connection can open): the caller walks them.
 * `prevHash` is the stored hash of entry `from - 1` (the genesis hash for 1).
 */
export async function walkRanges(
  source: AuditChainSource,
  key: Buffer,
  from: number,
  to: number,
  prevHash: string,
  tuning: RangeTuning = {},
  onWalked?: (walked: number) => void,
  signal?: AbortSignal,
): Promise<RangeResult[] | undefined> {
  signal?.throwIfAborted();
  const rows = to - from + 1;
  if (source.file === undefined || rows < (tuning.minRowsPerThread ?? MIN_ROWS_PER_WORKER)) return undefined;
  const size = Math.ceil(rows / threadsFor(rows, tuning));
  const workers: RunningWorker[] = [];
  // Rows walked by each worker so far, reported summed.
  const walked: number[] = [];
  const report = (index: number) => (count: number) => {
    walked[index] = count;
    onWalked?.(walked.reduce((sum, n) => sum + n, 0));
  };
  try {
    for (let start = from; start <= to; start += size) {
      // A missing link leaves '' here: that range's first row fails, and the range before reports the gap first.
      const link = start === from ? prevHash : (source.hashAt(start - 1) ?? '');
      walked.push(0);
      workers.push(startWorker(source, source.file, key, start, Math.min(to, start + size - 1), link, report(workers.length)));
    }
  } catch {
    // No worker threads here (a restricted runtime): the caller walks everything.
    for (const running of workers) void running.worker.terminate();
    return undefined;
  }
  // Cancelled: every worker is terminated now (each answer then settles as an exit), and the walk rejects.
  const stop = (): void => {
    for (const running of workers) void running.worker.terminate();
  };
  signal?.addEventListener('abort', stop, { once: true });
  try {
    const results = await Promise.all(workers.map(finish));
    signal?.throwIfAborted();
    return results;
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}
