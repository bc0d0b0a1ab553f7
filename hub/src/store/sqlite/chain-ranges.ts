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
const { createHmac, createSecretKey } = require('node:crypto');
const { workerData, parentPort } = require('node:worker_threads');
const { driverModule, file, sql, from, to, maxSuspects, progressRows } = workerData;
const WINDOW = 4096;
// A KeyObject: Node 24 re-imports a raw Buffer key on every createHmac (see MacKey in audit-log.ts).
const key = createSecretKey(Buffer.from(workerData.key));
let prevHash = workerData.prevHash;
let answer;
try {
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
        if (text === null || createHmac('sha256', key).update(prevHash + '\\n' + text).digest('hex') !== hash) {
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
